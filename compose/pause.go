package compose

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

func newPauseCommand(g *globals) *cobra.Command {
	return freezeCommand(g, "pause [SERVICE...]", "Pause services", reconcile.PlanPause)
}

func newUnpauseCommand(g *globals) *cobra.Command {
	return freezeCommand(g, "unpause [SERVICE...]", "Unpause services", reconcile.PlanUnpause)
}

// freezeCommand is pause or unpause: as Docker Compose, it acts on every
// container it can and then reports those it could not (already paused,
// not paused), failing.
func freezeCommand(g *globals, use, short string, decide func(*spec.Project, reconcile.Observed, []string) (reconcile.Plan, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			var refused error
			plan, err := s.planned(ctx, func(obs reconcile.Observed) (reconcile.Plan, error) {
				plan, err := decide(s.project, obs, args)
				refused = err
				return plan, nil
			})
			if err != nil {
				return err
			}
			return errors.Join(s.apply(ctx, plan, newProgress(statusOut(cmd))), refused)
		},
	}
}
