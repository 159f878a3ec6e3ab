package compose

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

func newKillCommand(g *globals) *cobra.Command {
	var o reconcile.KillOptions
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] [SERVICE...]",
		Short: "Force stop service containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := engine.ParseSignal(signal)
			if err != nil {
				return fmt.Errorf("--signal: %w", err)
			}
			ctx := cmd.Context()
			s, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			o.Services, o.Signal = args, sig
			plan, err := s.planned(ctx, func(obs reconcile.Observed) (reconcile.Plan, error) { return reconcile.PlanKill(s.project, obs, o) })
			if err != nil {
				return err
			}
			if plan.Empty() {
				fmt.Fprintln(cmd.ErrOrStderr(), "No container to kill")
				return nil
			}
			return s.apply(ctx, plan, newProgress(statusOut(cmd)))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "remove containers for services not defined in the Compose file")
	f.StringVarP(&signal, "signal", "s", "SIGKILL", "SIGNAL to send to the container")
	return cmd
}
