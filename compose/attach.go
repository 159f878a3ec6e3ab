package compose

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

// attach follows the logs of the project's containers until all of them
// have exited or the user interrupts; then, as Docker Compose does, it
// stops the containers that still run.
func attach(ctx context.Context, cmd *cobra.Command, s *session, services []string, timeout *time.Duration) error {
	recs, err := s.engine.Containers(context.Background(), s.project.Name, services, false)
	if err != nil {
		return err
	}
	follow, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // stop following once every container has exited
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-follow.Done():
				return
			case <-tick.C:
			}
			running := false
			for _, c := range recs {
				if st, err := s.engine.Status(follow, c.Name); err == nil && st.Active() {
					running = true
				}
			}
			if !running {
				time.Sleep(300 * time.Millisecond) // let the followers drain the last lines
				cancel()
				return
			}
		}
	}()
	logErr := streamLogs(follow, cmd.OutOrStdout(), s.engine, recs, engine.LogOptions{Follow: true, Tail: -1}, false)
	if ctx.Err() == nil {
		return logErr
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "Gracefully stopping...")
	stop := context.WithoutCancel(ctx)
	return s.run(stop, newProgress(cmd.OutOrStdout()), func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanStop(s.project, obs, reconcile.StopOptions{Services: services, Timeout: timeout})
	})
}
