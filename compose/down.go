package compose

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/reconcile"
)

func newDownCommand(g *globals) *cobra.Command {
	var o reconcile.DownOptions
	var t *timeoutFlag
	var rmi string
	cmd := &cobra.Command{
		Use:   "down [OPTIONS] [SERVICE...]",
		Short: "Stop and remove containers and networks (and volumes with -v, images with --rmi)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			var images []string
			if rmi != "" {
				if images, err = reconcile.DownImages(s.project, rmi); err != nil {
					return err
				}
			}
			out := newProgress(statusOut(cmd))
			o.Services, o.Timeout = args, t.value()
			o.RemoveOrphans = o.RemoveOrphans || envBool("REMOVE_ORPHANS")
			if err := s.run(ctx, out, func(obs reconcile.Observed) (reconcile.Plan, error) { return reconcile.PlanDown(s.project, obs, o) }); err != nil {
				return err
			}
			if len(images) == 0 {
				return nil
			}
			// Once the containers are gone, their images go as image rm
			// (without force) would remove them.
			inv, err := s.engine.Inventory(ctx)
			if err != nil {
				return err
			}
			plan, planErr := reconcile.PlanDownImages(inv, s.engine.LookupImages(images))
			return errors.Join(planErr, applyPlan(ctx, s.engine, plan, out))
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.RemoveVolumes, "volumes", "v", false, "remove named volumes declared in the volumes section of the compose file")
	f.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "remove containers for services not defined in the compose file")
	f.StringVar(&rmi, "rmi", "", `remove images used by services: "local" only images without a custom tag, "all" every image`)
	t = addTimeoutFlag(cmd, "shutdown timeout in seconds")
	return cmd
}
