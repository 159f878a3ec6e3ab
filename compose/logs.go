package compose

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/spf13/cobra"
)

type logsOptions struct {
	follow, timestamps, noColor, noPrefix bool
	tail, since, until                    string
	index                                 int
}

func newLogsCommand(g *globals) *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] [SERVICE...]",
		Short: "View output from containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			lo, err := o.logOptions(time.Now())
			if err != nil {
				return err
			}
			s, err := g.view(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			p, e := s.project, s.engine
			for _, name := range args {
				if _, ok := p.Service(name); !ok {
					return fmt.Errorf("no such service: %q", name)
				}
			}
			list := func(ctx context.Context, live bool) ([]engine.ContainerView, error) {
				recs, err := e.Containers(ctx, p.Name, args, live)
				return withIndex(recs, o.index), err
			}
			recs, err := list(ctx, o.follow)
			if err != nil {
				return err
			}
			if o.index > 0 && len(recs) == 0 {
				return fmt.Errorf("--index: no container with index %d", o.index)
			}
			pr := newLogsPrinter(cmd.OutOrStdout(), cmd.ErrOrStderr(), !o.noColor && isTerminal(cmd.OutOrStdout()), !o.noPrefix, o.timestamps)
			if !o.follow {
				return pr.dump(ctx, e, recs, lo)
			}
			return pr.follow(ctx, e, recs, lo, list)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.follow, "follow", "f", false, "Follow log output")
	f.StringVarP(&o.tail, "tail", "n", "all", "Number of lines to show from the end of the logs for each container")
	f.BoolVarP(&o.timestamps, "timestamps", "t", false, "Show timestamps")
	f.StringVar(&o.since, "since", "", "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	f.StringVar(&o.until, "until", "", "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	f.BoolVar(&o.noColor, "no-color", false, "Produce monochrome output")
	f.BoolVar(&o.noPrefix, "no-log-prefix", false, "Don't print prefix in logs")
	f.IntVar(&o.index, "index", 0, "index of the container if service has multiple replicas")
	return cmd
}

// logOptions reads the flags that select lines, relative times from now.
func (o logsOptions) logOptions(now time.Time) (engine.LogOptions, error) {
	lo := engine.LogOptions{Follow: o.follow, Tail: -1}
	if o.tail != "all" {
		n, err := strconv.Atoi(o.tail)
		if err != nil {
			return lo, fmt.Errorf("--tail: %q is not a number or \"all\"", o.tail)
		}
		lo.Tail = max(n, -1)
	}
	if o.index < 0 {
		return lo, fmt.Errorf("--index: %d is not a container index", o.index)
	}
	var err error
	if lo.Since, err = timeFlag("since", o.since, now); err != nil {
		return lo, err
	}
	lo.Until, err = timeFlag("until", o.until, now)
	return lo, err
}

// withIndex keeps the containers numbered index; 0 keeps them all.
func withIndex(recs []engine.ContainerView, index int) []engine.ContainerView {
	if index == 0 {
		return recs
	}
	return slices.DeleteFunc(recs, func(c engine.ContainerView) bool { return c.Number != index })
}

// prefixName is the log prefix of a container: "<service>-<n>".
func prefixName(c engine.ContainerView) string { return fmt.Sprintf("%s-%d", c.Service, c.Number) }
