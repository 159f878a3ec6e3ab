package compose

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/lifecycle"
)

// stackRow is one row of `ls`, with Docker Compose's JSON keys.
type stackRow struct {
	Name        string
	Status      string
	ConfigFiles string
}

// stackListing renders ls's rows as Docker Compose does: a table with
// wide columns, or one JSON array.
var stackListing = listing{
	table:   `{{.Name}}\t{{.Status}}\t{{.ConfigFiles}}`,
	headers: map[string]string{"Name": "NAME", "Status": "STATUS", "ConfigFiles": "CONFIG FILES"},
	array:   true,
	minCell: 20,
}

// configFilesLabel is where Docker Compose records a container's compose files.
const configFilesLabel = "com.docker.compose.project.config_files"

func newLsCommand(g *globals) *cobra.Command {
	var all, quiet bool
	var format string
	var filters []string
	cmd := &cobra.Command{
		Use:   "ls [OPTIONS]",
		Short: "List running compose projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format: %q is neither table nor json", format)
			}
			names, err := lsNameFilters(filters)
			if err != nil {
				return err
			}
			return g.withEngine(func(e *engine.Engine) error {
				cs, err := e.Containers(cmd.Context(), "", nil, true)
				if err != nil {
					return err
				}
				rows := stacks(cs, all)
				rows = slices.DeleteFunc(rows, func(r stackRow) bool { return !matchesName(names, r.Name) })
				if quiet {
					for _, r := range rows {
						fmt.Fprintln(cmd.OutOrStdout(), r.Name)
					}
					return nil
				}
				return stackListing.render(cmd.OutOrStdout(), format, rows)
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all stopped Compose projects")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only display project names")
	cmd.Flags().StringVar(&format, "format", "table", `format the output: "table" or "json"`)
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "filter output based on conditions provided (name=NAME)")
	return cmd
}

// lsNameFilters reads ls's --filter flags: only name=VALUE exists.
func lsNameFilters(filters []string) ([]string, error) {
	var names []string
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != "name" {
			return nil, fmt.Errorf("--filter %q: invalid filter '%s' (ls filters by name=NAME)", f, k)
		}
		names = append(names, v)
	}
	return names, nil
}

// matchesName is Docker's name filter: the name is one of the values or
// matches one as a regular expression; no values keep every name.
func matchesName(values []string, name string) bool {
	return len(values) == 0 || slices.ContainsFunc(values, func(v string) bool {
		ok, err := regexp.MatchString(v, name)
		return v == name || (err == nil && ok)
	})
}

// stacks groups containers into projects as Docker Compose's ls does:
// without all only containers that run count (a project with none is
// left out), each project's status the count of its containers by
// state, and its config files those its containers were made from.
func stacks(cs []engine.ContainerView, all bool) []stackRow {
	byProject := map[string][]engine.ContainerView{}
	for _, c := range cs {
		if c.State == lifecycle.Missing || (!all && !listedWithoutAll(c.State)) {
			continue
		}
		byProject[c.Project] = append(byProject[c.Project], c)
	}
	rows := make([]stackRow, 0, len(byProject))
	for name, cs := range byProject {
		states := make([]string, len(cs))
		for i, c := range cs {
			states[i] = string(c.State)
		}
		rows = append(rows, stackRow{Name: name, Status: combinedStatus(states), ConfigFiles: combinedConfigFiles(cs)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}

// listedWithoutAll reports whether Docker lists a container in this
// state without --all: it runs, maybe paused or between restarts.
func listedWithoutAll(s lifecycle.Status) bool { return s.Active() || s == "paused" }

// combinedStatus is Docker Compose's status of a project: each state
// with its count, in name order, e.g. "exited(1), running(2)".
func combinedStatus(states []string) string {
	count := map[string]int{}
	for _, s := range states {
		count[s]++
	}
	keys := make([]string, 0, len(count))
	for s := range count {
		keys = append(keys, s)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, s := range keys {
		parts[i] = fmt.Sprintf("%s(%d)", s, count[s])
	}
	return strings.Join(parts, ", ")
}

// combinedConfigFiles joins the config files of a project's containers,
// each once, in the order met; "N/A" when a container does not record
// them (made by a berth from before they were recorded), as Compose says.
func combinedConfigFiles(cs []engine.ContainerView) string {
	var files []string
	for _, c := range cs {
		label, ok := c.Labels[configFilesLabel]
		if !ok {
			return "N/A"
		}
		for _, f := range strings.Split(label, ",") {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	return strings.Join(files, ",")
}
