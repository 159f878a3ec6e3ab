package compose

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/lifecycle"
)

type psOptions struct {
	all, quiet, services, noTrunc, orphans bool
	format, filter                         string
	statuses                               []string
}

func newPsCommand(g *globals) *cobra.Command {
	var o psOptions
	cmd := &cobra.Command{
		Use:   "ps [OPTIONS] [SERVICE...]",
		Short: "List containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, err := parsePsFilter(o.filter, o.statuses)
			if err != nil {
				return err
			}
			s, err := g.view(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			p, e := s.project, s.engine
			services := args
			for _, name := range args {
				if _, ok := p.Service(name); !ok {
					return fmt.Errorf("no such service: %s", name)
				}
			}
			if len(args) == 0 && !o.orphans { // only the services the file declares
				services = []string{""} // with no service, no container matches
				for _, svc := range p.Services {
					services = append(services, svc.Name)
				}
			}
			recs, err := e.Containers(ctx, p.Name, services, false)
			if err != nil {
				return err
			}
			in, err := e.Inspector(ctx)
			if err != nil {
				return err
			}
			var rows []psEntry
			for _, r := range recs {
				d, err := in.Inspect(ctx, r.Name)
				if err != nil {
					return fmt.Errorf("describing %s: %w", r.Name, err)
				}
				if (!d.State.Active() && !o.all && len(f.statuses) == 0) || !f.keeps(d.ContainerView) {
					continue
				}
				rows = append(rows, newPsEntry(d, !o.noTrunc))
			}
			slices.SortFunc(rows, func(a, b psEntry) int { return strings.Compare(a.d.Name, b.d.Name) })
			out := cmd.OutOrStdout()
			switch {
			case o.quiet:
				for _, r := range rows {
					fmt.Fprintln(out, r.d.ID)
				}
				return nil
			case o.services:
				var names []string
				for _, r := range rows {
					if !slices.Contains(names, r.d.Service) {
						names = append(names, r.d.Service)
					}
				}
				_, err := fmt.Fprintln(out, strings.Join(names, "\n"))
				return err
			}
			return psListing.render(out, o.format, rows)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.all, "all", "a", false, "Show all stopped containers (including those created by the run command)")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "Only display IDs")
	fl.BoolVar(&o.services, "services", false, "Display services")
	fl.StringVar(&o.format, "format", "table", formatUsage)
	fl.StringVar(&o.filter, "filter", "", "Filter services by a property: status=STATE, label=KEY[=VALUE], name=NAME, service=SERVICE")
	fl.StringArrayVar(&o.statuses, "status", nil, "Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]")
	fl.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVar(&o.orphans, "orphans", true, "Include orphaned services (not declared by project)")
	return cmd
}

// formatUsage is the help of every listing's --format.
const formatUsage = `output format: "table", "json", or a Go template ('{{.Name}}', 'table {{.Name}}\t{{.Status}}')`

// psListing renders ps's rows.
var psListing = listing{
	table: `{{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}`,
	headers: map[string]string{"ID": "CONTAINER ID", "Name": "NAME", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
		"Project": "PROJECT", "Service": "SERVICE", "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "State": "STATE", "Status": "STATUS",
		"Health": "HEALTH", "ExitCode": "EXIT CODE", "Ports": "PORTS", "Labels": "LABELS", "Size": "SIZE", "Mounts": "MOUNTS",
		"LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS", "Engine": "ENGINE"},
}

// psEntry is one row of `ps`: its template fields and JSON keys are
// Docker Compose's (the methods of its container context), truncated
// unless --no-trunc.
type psEntry struct {
	d          engine.ContainerDetail
	trunc      bool
	publishers []publisher
}

// publisher is one port of a container, as Docker Compose reports it: a
// published one, or one the image exposes that nothing publishes
// (URL "", PublishedPort 0).
type publisher struct {
	URL           string
	TargetPort    int
	PublishedPort int
	Protocol      string
}

func newPsEntry(d engine.ContainerDetail, trunc bool) psEntry {
	return psEntry{d: d, trunc: trunc, publishers: publishers(d)}
}

// publishers are the container's published ports and the image's exposed
// ones nothing publishes, by target port, as Docker lists them.
func publishers(d engine.ContainerDetail) []publisher {
	var out []publisher
	for _, p := range d.Ports {
		out = append(out, publisher{URL: first(p.HostIP, "0.0.0.0"), TargetPort: p.ContainerPort, PublishedPort: p.HostPort, Protocol: p.Protocol})
	}
	for _, x := range d.Exposed {
		var port int
		proto := "tcp"
		num, pr, ok := strings.Cut(x, "/")
		if ok {
			proto = pr
		}
		if _, err := fmt.Sscan(num, &port); err != nil {
			continue // not a port Docker could list either
		}
		if !slices.ContainsFunc(out, func(p publisher) bool { return p.TargetPort == port && p.Protocol == proto }) {
			out = append(out, publisher{TargetPort: port, Protocol: proto})
		}
	}
	slices.SortStableFunc(out, func(a, b publisher) int { return a.TargetPort - b.TargetPort })
	return out
}

// MarshalJSON is the row as Docker Compose's ps --format json prints it:
// an object of every field.
func (r psEntry) MarshalJSON() ([]byte, error) {
	return marshalFields(map[string]any{"Command": r.Command(), "CreatedAt": r.CreatedAt(), "ExitCode": r.ExitCode(),
		"Health": r.Health(), "ID": r.ID(), "Image": r.Image(), "Labels": r.Labels(), "LocalVolumes": r.LocalVolumes(),
		"Mounts": r.Mounts(), "Name": r.Name(), "Names": r.Names(), "Networks": r.Networks(), "Ports": r.Ports(),
		"Project": r.Project(), "Publishers": r.Publishers(), "RunningFor": r.RunningFor(), "Service": r.Service(),
		"Size": r.Size(), "State": r.State(), "Status": r.Status(), "Engine": r.Engine()})
}

// ID is the container's ID, its first 12 digits when truncated.
func (r psEntry) ID() string {
	if r.trunc && len(r.d.ID) > 12 {
		return r.d.ID[:12]
	}
	return r.d.ID
}

// Name is the container's name.
func (r psEntry) Name() string { return r.d.Name }

// Names is the container's names (berth's have one).
func (r psEntry) Names() string { return r.d.Name }

// Project is the container's project.
func (r psEntry) Project() string { return r.d.Project }

// Service is the container's service.
func (r psEntry) Service() string { return r.d.Service }

// Image is the image reference the service names.
func (r psEntry) Image() string { return r.d.Image }

// Command is the container's command, quoted, ellipsized at 20 when truncated.
func (r psEntry) Command() string {
	c := strings.Join(r.d.Command, " ")
	if r.trunc {
		c = ellipsis(c, 20)
	}
	return fmt.Sprintf("%q", c)
}

// CreatedAt is when the container was made, to the second.
func (r psEntry) CreatedAt() string { return time.Unix(r.d.Created.Unix(), 0).String() }

// RunningFor is how long ago the container was made.
func (r psEntry) RunningFor() string { return since(time.Since(r.d.Created)) + " ago" }

// ExitCode is the exit code of a container that exited, else 0.
func (r psEntry) ExitCode() int {
	if r.d.State == lifecycle.Exited {
		return r.d.ExitCode
	}
	return 0
}

// State is the container's state: running, exited, ...
func (r psEntry) State() string { return string(r.d.State) }

// Health is a running container's health, "" without a health check.
func (r psEntry) Health() string {
	if r.d.State == lifecycle.Running {
		return r.d.Health
	}
	return ""
}

// Status is Docker's status text: "Up 5 seconds (healthy)", "Exited (0) 2 minutes ago",
// "Restarting (1) 1 second ago".
func (r psEntry) Status() string {
	d := r.d
	switch d.State {
	case lifecycle.Running:
		if d.Unsupervised {
			return "Up " + since(time.Since(d.StartedAt)) + " (supervisor died)"
		}
		if d.Health != "" {
			return "Up " + since(time.Since(d.StartedAt)) + " (" + d.Health + ")"
		}
		return "Up " + since(time.Since(d.StartedAt))
	case lifecycle.Paused:
		if d.Unsupervised {
			return "Up " + since(time.Since(d.StartedAt)) + " (Paused, supervisor died)"
		}
		return "Up " + since(time.Since(d.StartedAt)) + " (Paused)"
	case lifecycle.Exited:
		return fmt.Sprintf("Exited (%d) %s ago", d.ExitCode, since(time.Since(d.FinishedAt)))
	case lifecycle.Created:
		return "Created"
	case lifecycle.Restarting: // between two runs, waiting out the back-off
		return fmt.Sprintf("Restarting (%d) %s ago", d.ExitCode, since(time.Since(d.FinishedAt)))
	default:
		return string(d.State)
	}
}

// Publishers are the container's ports.
func (r psEntry) Publishers() []publisher {
	if r.publishers == nil {
		return []publisher{} // Compose's is an empty array, not null
	}
	return r.publishers
}

// Ports lists the ports as Docker shows them (see displayPorts).
func (r psEntry) Ports() string { return displayPorts(r.publishers) }

// Labels is "k=v,k=v", as Docker prints them.
func (r psEntry) Labels() string { return joinLabels(r.d.Labels) }

// Label is one label's value, for --format '{{.Label "key"}}'.
func (r psEntry) Label(name string) string { return r.d.Labels[name] }

// Mounts are the names of the container's volumes and the sources of
// its other mounts, ellipsized at 15 when truncated.
func (r psEntry) Mounts() string {
	var names []string
	for _, m := range r.d.Mounts {
		name := first(m.Name, m.Source)
		if r.trunc {
			name = ellipsis(name, 15)
		}
		names = append(names, name)
	}
	return strings.Join(names, ",")
}

// LocalVolumes counts the container's volumes (all are local).
func (r psEntry) LocalVolumes() string {
	n := 0
	for _, m := range r.d.Mounts {
		if m.Type == "volume" {
			n++
		}
	}
	return fmt.Sprint(n)
}

// Networks are the networks the container is on.
func (r psEntry) Networks() string {
	var names []string
	for _, n := range r.d.Networks {
		names = append(names, n.Network)
	}
	return strings.Join(names, ",")
}

// Size is Docker's size column without --size: nothing measured, "0B".
func (r psEntry) Size() string { return "0B" }

// Engine is the com.docker.compose.engine label, "" for berth's containers.
func (r psEntry) Engine() string { return r.d.Labels["com.docker.compose.engine"] }

// ellipsis cuts s to n characters, its last one "…", as Docker's tables do.
func ellipsis(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
