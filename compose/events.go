package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/spec"
)

func newEventsCommand(g *globals) *cobra.Command {
	var asJSON bool
	var since, until string
	cmd := &cobra.Command{
		Use:   "events [OPTIONS] [SERVICE...]",
		Short: "Receive real time events from containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			now := time.Now()
			o := engine.EventsOptions{}
			var err error
			if o.Since, err = timeFlag("since", since, now); err != nil {
				return err
			}
			if o.Until, err = timeFlag("until", until, now); err != nil {
				return err
			}
			if o.Project, err = g.eventsProject(ctx, args); err != nil {
				return err
			}
			e, err := g.openEngine()
			if err != nil {
				return err
			}
			defer e.Close()
			out := cmd.OutOrStdout()
			return e.Events(ctx, o, func(ev engine.ContainerEvent) error {
				if !eventShown(ev, args) {
					return nil
				}
				return writeEvent(out, ev, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "Output events as a stream of json objects")
	cmd.Flags().StringVar(&since, "since", "", "Show all events created since timestamp")
	cmd.Flags().StringVar(&until, "until", "", "Stream events until this timestamp")
	return cmd
}

// eventsProject is the project whose events are shown: the loaded one
// (whose services args must name), else -p's when there is no compose file.
func (g *globals) eventsProject(ctx context.Context, services []string) (string, error) {
	p, err := g.loadProject(ctx)
	if errors.Is(err, spec.ErrNoComposeFile) && g.projectName != "" {
		return g.projectName, nil
	}
	if err != nil {
		return "", err
	}
	for _, s := range services {
		if _, ok := p.Service(s); !ok {
			return "", fmt.Errorf("no such service: %q", s)
		}
	}
	return p.Name, nil
}

// eventShown says whether Docker Compose shows ev to a user who named
// services: never a one-off container's, and only the named services'.
func eventShown(ev engine.ContainerEvent, services []string) bool {
	if ev.Attributes["com.docker.compose.oneoff"] == "True" {
		return false
	}
	if eventType(ev) != "container" {
		return len(services) == 0 // the project's own (reconcile passes)
	}
	return len(services) == 0 || slices.Contains(services, ev.Service)
}

// eventType is ev's type, "container" unless it is a project's own.
func eventType(ev engine.ContainerEvent) string { return first(ev.Type, "container") }

// eventAttributes are the attributes Docker Compose shows: all but its own
// com.docker.compose.* labels.
func eventAttributes(ev engine.ContainerEvent) map[string]string {
	out := map[string]string{}
	for k, v := range ev.Attributes {
		if !strings.HasPrefix(k, "com.docker.compose.") {
			out[k] = v
		}
	}
	return out
}

// writeEvent prints ev as docker compose events does. Its text form
// ends with a blank line, as Docker Compose's (its event's text ends with
// a newline, and it prints that with Println); the attributes are sorted
// here, where Compose's follow map order.
func writeEvent(w io.Writer, ev engine.ContainerEvent, asJSON bool) error {
	attrs := eventAttributes(ev)
	if asJSON {
		b, err := json.Marshal(map[string]any{"time": ev.Time, "type": eventType(ev), "service": ev.Service,
			"id": ev.ID, "action": ev.Action, "attributes": attrs})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		kv = append(kv, k+"="+attrs[k])
	}
	_, err := fmt.Fprintf(w, "%s %s %s %s (%s)\n\n", ev.Time.Format("2006-01-02 15:04:05.000000"), eventType(ev), ev.Action, ev.ID, strings.Join(kv, ", "))
	return err
}
