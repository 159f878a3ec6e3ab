package compose

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/spf13/cobra"
)

type logsOptions struct {
	follow     bool
	tail       string
	timestamps bool
}

func newLogsCommand(g *globals) *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] [SERVICE...]",
		Short: "View output from containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.view(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			p, e := s.project, s.engine
			tail := -1
			if o.tail != "all" {
				if _, err := fmt.Sscan(o.tail, &tail); err != nil {
					return fmt.Errorf("--tail: %q is not a number or \"all\"", o.tail)
				}
			}
			recs, err := e.Containers(ctx, p.Name, args, false)
			if err != nil {
				return err
			}
			return streamLogs(ctx, cmd.OutOrStdout(), e, recs, engine.LogOptions{Follow: o.follow, Tail: tail}, o.timestamps)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.follow, "follow", "f", false, "follow log output")
	f.StringVarP(&o.tail, "tail", "n", "all", "number of lines to show from the end of the logs for each container")
	f.BoolVarP(&o.timestamps, "timestamps", "t", false, "show timestamps")
	return cmd
}

// colors are the ANSI colours of service prefixes, as Docker Compose cycles them.
var colors = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

// streamLogs writes the containers' logs to w, each line prefixed with
// "<service>-<n> | ", coloured on a terminal, following when o.Follow.
func streamLogs(ctx context.Context, w io.Writer, e *engine.Engine, recs []engine.ContainerView, o engine.LogOptions, timestamps bool) error {
	width := 0
	for _, c := range recs {
		width = max(width, len(prefixName(c)))
	}
	tty := isTerminal(w)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(recs))
	for i, c := range recs {
		prefix := fmt.Sprintf("%-*s | ", width, prefixName(c))
		if tty {
			prefix = "\x1b[" + colors[i%len(colors)] + "m" + prefix + "\x1b[0m"
		}
		write := func(l engine.LogLine) error {
			mu.Lock()
			defer mu.Unlock()
			ts := ""
			if timestamps {
				ts = l.Time.Format(time.RFC3339Nano) + " "
			}
			_, err := fmt.Fprintf(w, "%s%s%s\n", prefix, ts, strings.TrimSuffix(l.Text, "\n"))
			return err
		}
		if !o.Follow {
			if err := e.Logs(ctx, c.Name, o, write); err != nil {
				return fmt.Errorf("reading logs of %s: %w", c.Name, err)
			}
			continue
		}
		wg.Add(1)
		go func(i int, c engine.ContainerView) {
			defer wg.Done()
			errs[i] = e.Logs(ctx, c.Name, o, write)
		}(i, c)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("reading logs of %s: %w", recs[i].Name, err)
		}
	}
	return nil
}

// prefixName is the log prefix of a container: "<service>-<n>".
func prefixName(c engine.ContainerView) string { return fmt.Sprintf("%s-%d", c.Service, c.Number) }
