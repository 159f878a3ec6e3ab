package compose

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/reconcile"
)

func newDownCommand(g *globals) *cobra.Command {
	var volumes, removeOrphans bool
	var timeout int
	cmd := &cobra.Command{
		Use:   "down [OPTIONS] [SERVICE...]",
		Short: "Stop and remove containers and networks (and volumes with -v)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			obs, err := s.engine.Observe(ctx, s.project)
			if err != nil {
				return err
			}
			var keep []reconcile.Container
			obs.Containers, keep = splitOrphans(s, obs.Containers, removeOrphans)
			for _, name := range args {
				if _, ok := s.project.Service(name); !ok {
					return fmt.Errorf("no such service: %q", name)
				}
			}
			o := reconcile.DownOptions{Services: args, RemoveVolumes: volumes}
			if cmd.Flags().Changed("timeout") {
				t := time.Duration(timeout) * time.Second
				o.Timeout = &t
			}
			plan := reconcile.PlanDown(s.project.Name, obs, o)
			for _, c := range keep {
				fmt.Fprintf(cmd.ErrOrStderr(), "WARN: found orphan container %s for service %q: remove it with --remove-orphans\n", c.Name, c.Service)
			}
			return reconcile.Apply(ctx, plan, drivers(s.engine), 0, newProgress(cmd.OutOrStdout()).event)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&volumes, "volumes", "v", false, "remove named volumes declared in the volumes section of the compose file")
	f.BoolVar(&removeOrphans, "remove-orphans", false, "remove containers for services not defined in the compose file")
	f.IntVarP(&timeout, "timeout", "t", 10, "shutdown timeout in seconds")
	return cmd
}

// splitOrphans separates the containers of services in the project from
// orphans, which go too when removeOrphans is set.
func splitOrphans(s *session, cs []reconcile.Container, removeOrphans bool) (remove, keep []reconcile.Container) {
	for _, c := range cs {
		if _, ok := s.project.Service(c.Service); ok || removeOrphans || slices.Contains(s.project.Disabled, c.Service) {
			remove = append(remove, c)
		} else {
			keep = append(keep, c)
		}
	}
	return remove, keep
}
