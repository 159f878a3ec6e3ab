package compose

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

// newBootCommand is `berth boot`: what Docker's daemon does at its start,
// run once at boot (contrib/systemd/berth-boot.service), since berth has
// no daemon.
func newBootCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "boot",
		Short: "Bring back, once the host has started, every project's containers with restart policy always (or unless-stopped, unless stopped)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				ctx := cmd.Context()
				cs, err := e.Containers(ctx, "", nil, false)
				if err != nil {
					return err
				}
				var projects []string
				for _, c := range cs {
					if !slices.Contains(projects, c.Project) {
						projects = append(projects, c.Project)
					}
				}
				slices.Sort(projects)
				out := newProgress(statusOut(cmd))
				// One project failing keeps none of the others down; a
				// failed one is tried once more after them, as it may use
				// a network another one makes again.
				var failed []string
				for _, name := range projects {
					if err := bootProject(ctx, e, name, out); err != nil {
						failed = append(failed, name)
					}
				}
				var errs []error
				for _, name := range failed {
					if err := bootProject(ctx, e, name, out); err != nil {
						errs = append(errs, fmt.Errorf("project %s: %w", name, err))
					}
				}
				return errors.Join(errs...)
			})
		},
	}
}

// bootProject plans and applies the boot of one project, under its lock.
func bootProject(ctx context.Context, e *engine.Engine, name string, out *progress) error {
	unlock, err := e.LockProject(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	p, err := e.RecordedProject(ctx, name)
	if err != nil {
		return err
	}
	obs, err := e.Observe(ctx, p)
	if err != nil {
		return err
	}
	plan, err := reconcile.PlanBoot(p, obs)
	if err != nil {
		return err
	}
	return applyPlan(ctx, e, plan, out)
}
