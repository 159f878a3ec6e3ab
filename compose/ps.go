package compose

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/lifecycle"
)

// psEntry is one row of `ps`, with Docker Compose's JSON keys.
type psEntry struct {
	ID         string
	Name       string
	Command    string
	Project    string
	Service    string
	Image      string
	CreatedAt  string
	created    time.Time
	State      string
	Status     string
	ExitCode   int
	Health     string
	Labels     string // "k=v,k=v", as Docker prints them
	labels     map[string]string
	Publishers []publisher
}

// publisher is one published port, as Docker Compose reports it.
type publisher struct {
	URL           string
	TargetPort    uint32
	PublishedPort uint32
	Protocol      string
}

func newPsCommand(g *globals) *cobra.Command {
	var all, quiet, services bool
	var format, filter string
	var statuses []string
	cmd := &cobra.Command{
		Use:   "ps [OPTIONS] [SERVICE...]",
		Short: "List containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, err := parsePsFilter(filter, statuses)
			if err != nil {
				return err
			}
			s, err := g.view(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			p, e := s.project, s.engine
			recs, err := e.Containers(ctx, p.Name, args, true)
			if err != nil {
				return err
			}
			var rows []psEntry
			for _, r := range recs {
				if (!r.State.Active() && !all && len(f.statuses) == 0) || !f.keeps(r) {
					continue
				}
				row := psEntry{ID: r.ID, Name: r.Name, Project: r.Project, Service: r.Service,
					Image: r.Image, Command: strings.Join(r.Command, " "),
					CreatedAt: r.Created.Format("2006-01-02 15:04:05 -0700 MST"), created: r.Created, State: string(r.State), ExitCode: r.ExitCode, Health: r.Health,
					Labels: joinLabels(r.Labels), labels: r.Labels}
				switch r.State {
				case lifecycle.Running:
					row.Status = "Up " + since(time.Since(r.StartedAt))
					if r.Health != "" {
						row.Status += " (" + r.Health + ")"
					}
				case lifecycle.Paused:
					row.Status = "Up " + since(time.Since(r.StartedAt)) + " (Paused)"
				case lifecycle.Exited:
					row.Status = fmt.Sprintf("Exited (%d) %s ago", r.ExitCode, since(time.Since(r.FinishedAt)))
				case lifecycle.Created:
					row.Status = "Created"
				default:
					row.Status = string(r.State)
				}
				for _, p := range r.Ports {
					row.Publishers = append(row.Publishers, publisher{URL: first(p.HostIP, "0.0.0.0"), TargetPort: uint32(p.ContainerPort), PublishedPort: uint32(p.HostPort), Protocol: p.Protocol})
				}
				rows = append(rows, row)
			}
			if quiet || services {
				seen := map[string]bool{}
				for _, r := range rows {
					line := r.ID
					if services {
						line = r.Service
					}
					if !seen[line] {
						seen[line] = true
						fmt.Fprintln(cmd.OutOrStdout(), line)
					}
				}
				return nil
			}
			return psListing.render(cmd.OutOrStdout(), format, rows)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all stopped containers")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only display IDs")
	cmd.Flags().BoolVar(&services, "services", false, "display services")
	cmd.Flags().StringVar(&format, "format", "table", formatUsage)
	cmd.Flags().StringVar(&filter, "filter", "", "filter services by a property: status=STATE, label=KEY[=VALUE]")
	cmd.Flags().StringArrayVar(&statuses, "status", nil, "filter services by status: paused, restarting, running, created, exited")
	return cmd
}

// formatUsage is the help of every listing's --format.
const formatUsage = `output format: "table", "json", or a Go template ('{{.Name}}', 'table {{.Name}}\t{{.Status}}')`

// psListing renders ps's rows.
var psListing = listing{
	table: `{{.Name}}\t{{.Image}}\t{{.QuotedCommand}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}`,
	headers: map[string]string{"ID": "CONTAINER ID", "Name": "NAME", "Image": "IMAGE", "Command": "COMMAND", "QuotedCommand": "COMMAND",
		"Project": "PROJECT", "Service": "SERVICE", "CreatedAt": "CREATED", "RunningFor": "CREATED", "State": "STATE", "Status": "STATUS",
		"Health": "HEALTH", "ExitCode": "EXIT CODE", "Ports": "PORTS", "Labels": "LABELS"},
}

// QuotedCommand is the command as ps's table shows it.
func (r psEntry) QuotedCommand() string { return fmt.Sprintf("%q", r.Command) }

// RunningFor is how long ago the container was made.
func (r psEntry) RunningFor() string { return since(time.Since(r.created)) + " ago" }

// Ports lists the published ports as Docker shows them.
func (r psEntry) Ports() string {
	var ports []string
	for _, p := range r.Publishers {
		ports = append(ports, fmt.Sprintf("%s:%d->%d/%s", p.URL, p.PublishedPort, p.TargetPort, p.Protocol))
	}
	return strings.Join(ports, ", ")
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Label is one label's value, for --format '{{.Label "key"}}'.
func (r psEntry) Label(name string) string { return r.labels[name] }
