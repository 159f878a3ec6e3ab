package compose

import (
	"errors"
	"fmt"
	"sync"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/reconcile"
)

func newWaitCommand(g *globals) *cobra.Command {
	var down bool
	cmd := &cobra.Command{
		Use:   "wait SERVICE [SERVICE...] [OPTIONS]",
		Short: "Block until containers of all (or specified) services stop.",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			// No project lock while waiting: other commands (kill, stop)
			// must be able to act on the project meanwhile.
			s, err := g.view(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			for _, name := range args {
				if _, ok := s.project.Service(name); !ok {
					return fmt.Errorf("no such service: %q", name)
				}
			}
			cs, err := s.engine.Containers(ctx, s.project.Name, args, true)
			if err != nil {
				return err
			}
			var mu sync.Mutex
			var wg sync.WaitGroup
			var errs []error
			code, waiting := 0, 0
			for _, c := range cs {
				if !c.State.Active() {
					continue
				}
				waiting++
				wg.Go(func() {
					n, err := s.engine.Wait(ctx, c.Name)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, fmt.Errorf("waiting for %s: %w", c.Name, err))
						return
					}
					fmt.Fprintf(cmd.OutOrStdout(), "container %q exited with status code %d\n", c.ID, n)
					code = n // Docker Compose's: the code of the last to exit
				})
			}
			if waiting == 0 {
				return fmt.Errorf("no containers for project %q", s.project.Name)
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return err
			}
			if down {
				if err := downProject(cmd, s); err != nil {
					return err
				}
			}
			return exitStatus(code)
		},
	}
	cmd.Flags().BoolVar(&down, "down-project", false, "drops project when the first container stops")
	return cmd
}

// downProject is wait's --down-project: Docker Compose's `down
// --remove-orphans` once the containers have exited.
func downProject(cmd *cobra.Command, s *session) error {
	ctx := cmd.Context()
	unlock, err := s.engine.LockProject(ctx, s.project.Name)
	if err != nil {
		return err
	}
	defer unlock()
	return s.run(ctx, newProgress(statusOut(cmd)), func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanDown(s.project, obs, reconcile.DownOptions{RemoveOrphans: true})
	})
}
