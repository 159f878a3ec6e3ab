package compose

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/runtime"
)

// attach follows the logs of the project's containers until all of them
// have exited or the user interrupts; then, as Docker Compose does, it
// stops the containers that still run.
func attach(ctx context.Context, cmd *cobra.Command, s *session, services []string, timeout *time.Duration) error {
	recs, err := selectContainers(context.Background(), s.engine.Store, s.project.Name, services)
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
				if st, err := s.engine.Runtime.State(follow, c.Name); err == nil && st.Status == "running" {
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
	logErr := streamLogs(follow, cmd.OutOrStdout(), s.engine.Runtime, recs, runtime.LogOptions{Follow: true, Tail: -1}, false)
	if ctx.Err() == nil {
		return logErr
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "Gracefully stopping...")
	out := newProgress(cmd.OutOrStdout())
	var wg sync.WaitGroup
	for _, c := range recs {
		wg.Add(1)
		go func(name string, grace *time.Duration) {
			defer wg.Done()
			t := 10 * time.Second
			if grace != nil {
				t = *grace
			}
			out.set(name, fmt.Sprintf("Container %s  Stopping", name))
			if err := s.engine.Runtime.Stop(context.Background(), name, t); err != nil {
				out.set(name, fmt.Sprintf("Container %s  Error: %v", name, err))
				return
			}
			out.set(name, fmt.Sprintf("Container %s  Stopped", name))
		}(c.Name, stopGrace(s, c.Service, timeout))
	}
	wg.Wait()
	return nil
}

func stopGrace(s *session, service string, timeout *time.Duration) *time.Duration {
	if timeout != nil {
		return timeout
	}
	if svc, ok := s.project.Service(service); ok {
		return svc.StopGracePeriod
	}
	return nil
}
