package compose

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/reconcile"
)

func newDownCommand(g *globals) *cobra.Command {
	var o reconcile.DownOptions
	var t *timeoutFlag
	cmd := verb(g, "down [OPTIONS] [SERVICE...]", "Stop and remove containers and networks (and volumes with -v)",
		func(cmd *cobra.Command, args []string, s *session) func(reconcile.Observed) (reconcile.Plan, error) {
			return func(obs reconcile.Observed) (reconcile.Plan, error) {
				o.Services, o.Timeout = args, t.value()
				return reconcile.PlanDown(s.project, obs, o)
			}
		})
	f := cmd.Flags()
	f.BoolVarP(&o.RemoveVolumes, "volumes", "v", false, "remove named volumes declared in the volumes section of the compose file")
	f.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "remove containers for services not defined in the compose file")
	t = addTimeoutFlag(cmd, "shutdown timeout in seconds")
	return cmd
}
