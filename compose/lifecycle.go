package compose

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/reconcile"
)

// timeoutFlag is a command's -t/--timeout: unset, each service's
// stop_grace_period applies, else the default grace.
type timeoutFlag struct {
	cmd     *cobra.Command
	seconds int
}

func addTimeoutFlag(cmd *cobra.Command, usage string) *timeoutFlag {
	t := &timeoutFlag{cmd: cmd}
	cmd.Flags().IntVarP(&t.seconds, "timeout", "t", int(lifecycle.DefaultStopGrace/time.Second), usage)
	return t
}

// value is the grace period the user set, nil when not set.
func (t *timeoutFlag) value() *time.Duration {
	if !t.cmd.Flags().Changed("timeout") {
		return nil
	}
	d := time.Duration(t.seconds) * time.Second
	return &d
}

// planned observes the session's project and plans with decide, a plan
// that never builds (what builds would read is not observed).
func (s *session) planned(ctx context.Context, decide func(reconcile.Observed) (reconcile.Plan, error)) (reconcile.Plan, error) {
	obs, err := s.engine.ObserveState(ctx, s.project)
	if err != nil {
		return reconcile.Plan{}, err
	}
	return decide(obs)
}

// apply carries out plan on the session's host, showing its warnings and
// progress on out.
func (s *session) apply(ctx context.Context, plan reconcile.Plan, out *progress) error {
	return applyPlan(ctx, s.engine, plan, out)
}

// run is a verb that changes the host: observe, plan with decide, apply.
func (s *session) run(ctx context.Context, out *progress, decide func(reconcile.Observed) (reconcile.Plan, error)) error {
	plan, err := s.planned(ctx, decide)
	if err != nil {
		return err
	}
	return s.apply(ctx, plan, out)
}

// verb is a project command that changes the host through one plan.
func verb(g *globals, use, short string, decide func(cmd *cobra.Command, args []string, p *session) func(reconcile.Observed) (reconcile.Plan, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			return s.run(cmd.Context(), newProgress(statusOut(cmd)), decide(cmd, args, s))
		},
	}
}

func newStopCommand(g *globals) *cobra.Command {
	var t *timeoutFlag
	cmd := verb(g, "stop [OPTIONS] [SERVICE...]", "Stop services (their stop signal, then SIGKILL after the grace period)",
		func(cmd *cobra.Command, args []string, s *session) func(reconcile.Observed) (reconcile.Plan, error) {
			return func(obs reconcile.Observed) (reconcile.Plan, error) {
				return reconcile.PlanStop(s.project, obs, reconcile.StopOptions{Services: args, Timeout: t.value()})
			}
		})
	t = addTimeoutFlag(cmd, "shutdown timeout in seconds")
	return cmd
}

func newStartCommand(g *globals) *cobra.Command {
	return verb(g, "start [SERVICE...]", "Start existing containers of services",
		func(cmd *cobra.Command, args []string, s *session) func(reconcile.Observed) (reconcile.Plan, error) {
			return func(obs reconcile.Observed) (reconcile.Plan, error) { return reconcile.PlanStart(s.project, obs, args) }
		})
}

func newRestartCommand(g *globals) *cobra.Command {
	var t *timeoutFlag
	var noDeps bool
	cmd := &cobra.Command{
		Use:   "restart [OPTIONS] [SERVICE...]",
		Short: "Restart service containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			plan, err := s.planned(ctx, func(obs reconcile.Observed) (reconcile.Plan, error) {
				return reconcile.PlanRestart(s.project, obs, reconcile.StopOptions{Services: args, Timeout: t.value(), NoDeps: noDeps})
			})
			if err != nil {
				return err
			}
			out := newProgress(statusOut(cmd))
			warn(out, plan)
			d := drivers(s.engine)
			if !currentDryRun {
				d.Containers = s.engine.Restarting() // its starts end restarts, as events tell
			}
			return reconcile.Apply(ctx, plan, d, 0, out.event)
		},
	}
	t = addTimeoutFlag(cmd, "shutdown timeout in seconds")
	cmd.Flags().BoolVar(&noDeps, "no-deps", false, "don't restart dependent services")
	return cmd
}

func newRmCommand(g *globals) *cobra.Command {
	var o reconcile.RemoveOptions
	var force bool
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
			o.Services = args
			plan, err := s.planned(ctx, func(obs reconcile.Observed) (reconcile.Plan, error) { return reconcile.PlanRemove(s.project, obs, o) })
			if err != nil {
				return err
			}
			var gone []string
			for _, a := range plan.Actions {
				if a.Kind == reconcile.Remove {
					gone = append(gone, a.Target)
				}
			}
			if len(gone) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No stopped containers")
				return nil
			}
			if !force && !confirm(cmd, "Going to remove "+strings.Join(gone, ", ")+"\nAre you sure? [y/N] ") {
				return nil
			}
			return s.apply(ctx, plan, newProgress(statusOut(cmd)))
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&force, "force", "f", false, "don't ask to confirm removal")
	f.BoolVarP(&o.Stop, "stop", "s", false, "stop the containers, if required, before removing")
	f.BoolVarP(&o.Volumes, "volumes", "v", false, "remove any anonymous volumes attached to containers")
	return cmd
}
