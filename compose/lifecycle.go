package compose

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/store"
)

// containerTimeout is a container's stop grace period: -t when given, else
// its service's stop_grace_period, else Docker's 10 s.
func containerTimeout(cmd *cobra.Command, s *session, c store.Container, seconds int) time.Duration {
	if cmd.Flags().Changed("timeout") {
		return time.Duration(seconds) * time.Second
	}
	if svc, ok := s.project.Service(c.Service); ok && svc.StopGracePeriod != nil {
		return *svc.StopGracePeriod
	}
	return 10 * time.Second
}

// eachContainer runs fn on the selected containers of the project, one
// progress line each, and joins the errors.
func eachContainer(cmd *cobra.Command, s *session, services []string, verb [2]string, fn func(context.Context, store.Container) error) error {
	recs, err := selectContainers(cmd.Context(), s.engine.Store, s.project.Name, services)
	if err != nil {
		return err
	}
	out := newProgress(cmd.OutOrStdout())
	var errs []error
	for _, c := range recs {
		out.set(c.Name, fmt.Sprintf("Container %s  %s", c.Name, verb[0]))
		if err := fn(cmd.Context(), c); err != nil {
			out.set(c.Name, fmt.Sprintf("Container %s  Error: %v", c.Name, err))
			errs = append(errs, err)
			continue
		}
		out.set(c.Name, fmt.Sprintf("Container %s  %s", c.Name, verb[1]))
	}
	return errors.Join(errs...)
}

func newStopCommand(g *globals) *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:   "stop [OPTIONS] [SERVICE...]",
		Short: "Stop services (their stop signal, then SIGKILL after the grace period)",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			return eachContainer(cmd, s, args, [2]string{"Stopping", "Stopped"}, func(ctx context.Context, c store.Container) error {
				return stopIfRunning(ctx, s.engine, c.Name, containerTimeout(cmd, s, c, timeout))
			})
		},
	}
	cmd.Flags().IntVarP(&timeout, "timeout", "t", 10, "shutdown timeout in seconds")
	return cmd
}

func stopIfRunning(ctx context.Context, e *engine.Engine, name string, timeout time.Duration) error {
	st, err := e.Runtime.State(ctx, name)
	if err != nil || st.Status != "running" && st.Status != "restarting" {
		return err
	}
	return e.Runtime.Stop(ctx, name, timeout)
}

func newStartCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start [SERVICE...]",
		Short: "Start existing containers of services",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			return eachContainer(cmd, s, args, [2]string{"Starting", "Started"}, func(ctx context.Context, c store.Container) error {
				if st, err := s.engine.Runtime.State(ctx, c.Name); err != nil || st.Status == "running" {
					return err
				}
				return s.engine.Start(ctx, c.Name)
			})
		},
	}
}

func newRestartCommand(g *globals) *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:   "restart [OPTIONS] [SERVICE...]",
		Short: "Restart service containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			return eachContainer(cmd, s, args, [2]string{"Restarting", "Started"}, func(ctx context.Context, c store.Container) error {
				if err := stopIfRunning(ctx, s.engine, c.Name, containerTimeout(cmd, s, c, timeout)); err != nil {
					return err
				}
				return s.engine.Start(ctx, c.Name)
			})
		},
	}
	cmd.Flags().IntVarP(&timeout, "timeout", "t", 10, "shutdown timeout in seconds")
	return cmd
}

func newRmCommand(g *globals) *cobra.Command {
	var force, stop, volumes bool
	cmd := &cobra.Command{
		Use:   "rm [OPTIONS] [SERVICE...]",
		Short: "Remove stopped service containers (with -v, their anonymous volumes too)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			recs, err := selectContainers(ctx, s.engine.Store, s.project.Name, args)
			if err != nil {
				return err
			}
			var gone []string
			for _, c := range recs {
				st, err := s.engine.Runtime.State(ctx, c.Name)
				if err != nil {
					return err
				}
				if st.Status == "running" || st.Status == "restarting" {
					if !stop {
						continue // compose rm leaves running containers alone unless --stop
					}
					if err := s.engine.Runtime.Stop(ctx, c.Name, containerTimeout(cmd, s, c, 10)); err != nil {
						return err
					}
				}
				gone = append(gone, c.Name)
			}
			if len(gone) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No stopped containers")
				return nil
			}
			if !force && !confirm(cmd, "Going to remove "+strings.Join(gone, ", ")+"\nAre you sure? [y/N] ") {
				return nil
			}
			var errs []error
			for _, name := range gone {
				if err := s.engine.Remove(ctx, name, 0); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Container %s  Removed\n", name)
				if volumes {
					errs = append(errs, s.engine.RemoveAnonymousVolumes(ctx, name))
				}
			}
			errs = append(errs, s.engine.RefreshHosts(ctx, s.project.Name))
			return errors.Join(errs...)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&force, "force", "f", false, "don't ask to confirm removal")
	f.BoolVarP(&stop, "stop", "s", false, "stop the containers, if required, before removing")
	f.BoolVarP(&volumes, "volumes", "v", false, "remove any anonymous volumes attached to containers")
	return cmd
}
