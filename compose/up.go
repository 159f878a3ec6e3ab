package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

type upOptions struct {
	detach        bool
	removeOrphans bool
	forceRecreate bool
	timeout       int
}

func (o upOptions) reconcile(cmd *cobra.Command, services []string) reconcile.Options {
	ro := reconcile.Options{Services: services, ForceRecreate: o.forceRecreate, RemoveOrphans: o.removeOrphans}
	if cmd.Flags().Changed("timeout") {
		t := time.Duration(o.timeout) * time.Second
		ro.Timeout = &t
	}
	return ro
}

func newUpCommand(g *globals) *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up [OPTIONS] [SERVICE...]",
		Short: "Create and start containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := newProgress(cmd.OutOrStdout())
			s, err := g.open(ctx, engine.WithPullProgress(out.pull))
			if err != nil {
				return err
			}
			defer s.close()
			plan, err := converge(ctx, s, o.reconcile(cmd, args), out)
			if err != nil {
				return err
			}
			if plan.Empty() {
				fmt.Fprintln(cmd.OutOrStdout(), "Nothing to do: the project is up to date.")
			}
			if o.detach {
				return nil
			}
			s.unlock() // attached: let other berth commands work on the project
			s.unlock = func() {}
			var timeout *time.Duration
			if cmd.Flags().Changed("timeout") {
				t := time.Duration(o.timeout) * time.Second
				timeout = &t
			}
			return attach(ctx, cmd, s, args, timeout)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.detach, "detach", "d", false, "run containers in the background")
	f.BoolVar(&o.removeOrphans, "remove-orphans", false, "remove containers for services not defined in the compose file")
	f.BoolVar(&o.forceRecreate, "force-recreate", false, "recreate containers even if their configuration has not changed")
	f.IntVarP(&o.timeout, "timeout", "t", 10, "shutdown timeout in seconds for containers being replaced")
	return cmd
}

// converge runs one reconcile pass of the session's project, showing its
// progress and warnings on out.
func converge(ctx context.Context, s *session, o reconcile.Options, out *progress) (reconcile.Plan, error) {
	plan, err := reconcile.Converge(ctx, s.project, s.engine, drivers(s.engine), o, out.event)
	for _, w := range plan.Warnings {
		fmt.Fprintln(out.w, "WARN:", w)
	}
	return plan, err
}

func planUp(ctx context.Context, s *session, o reconcile.Options) (reconcile.Plan, error) {
	obs, err := s.engine.Observe(ctx, s.project)
	if err != nil {
		return reconcile.Plan{}, err
	}
	return reconcile.PlanUp(s.project, obs, o)
}

func drivers(e *engine.Engine) reconcile.Drivers {
	return reconcile.Drivers{Images: e, Networks: e, Volumes: e, Containers: e}
}

func newPlanCommand(g *globals) *cobra.Command {
	var o upOptions
	var format string
	cmd := &cobra.Command{
		Use:   "plan [OPTIONS] [SERVICE...]",
		Short: "Show what up would change, and why, without changing anything",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			plan, err := planUp(ctx, s, o.reconcile(cmd, args))
			if err != nil {
				return err
			}
			switch format {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(plan)
			case "", "text":
				_, err := fmt.Fprint(cmd.OutOrStdout(), plan.String())
				return err
			}
			return errors.New(`--format must be "text" or "json"`)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.removeOrphans, "remove-orphans", false, "plan to remove containers for services not defined in the compose file")
	f.BoolVar(&o.forceRecreate, "force-recreate", false, "plan to recreate containers even if unchanged")
	f.StringVar(&format, "format", "text", `output format: "text" or "json"`)
	return cmd
}
