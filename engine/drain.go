package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/network"
)

// drainPoll is how often Drain looks at the connections left.
const drainPoll = 10 * time.Millisecond

// Drain waits until container name serves no connection any more (none
// accepted on a port it listens on is still open, see network.Served),
// at most limit: a start-first rollout has moved its published ports
// away, so no new connection comes, and those it serves finish before
// its stop. What is left at limit is cut by the stop that follows; a
// container that does not run has nothing to drain.
//
// Its port rules, which its successor's shadow (network.Host.
// TakeOverPorts), start going meanwhile, in the background: their
// deletion takes the kernel milliseconds, which overlap the drain and
// the stop that follows. The removal, which the plan puts after the
// drain, deletes them too (unplumb): waiting for the host's network lock,
// it returns only once they are gone, and reports an error this deletion
// met.
func (e *Engine) Drain(ctx context.Context, name string, limit time.Duration) error {
	go func() {
		defer phase.Start(name, "drain.unpublish")()
		_ = e.net.UnpublishPorts(name) // the removal's own deletion reports errors
	}()
	return e.drain(ctx, name, limit)
}

// drain is Drain's wait for the connections to end.
func (e *Engine) drain(ctx context.Context, name string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		end := phase.Start(name, "drain.state")
		st, err := e.runtime.State(ctx, name)
		end()
		if err != nil {
			return fmt.Errorf("draining %s: %w", name, err)
		}
		if st.Status != lifecycle.Running || st.Pid == 0 {
			return nil
		}
		end = phase.Start(name, "drain.sockets")
		sockets, err := network.Sockets(st.Pid)
		end()
		if err != nil {
			if s, _ := e.runtime.State(ctx, name); s.Status != lifecycle.Running {
				return nil // it ended while its sockets were read
			}
			return fmt.Errorf("draining %s: %w", name, err)
		}
		if network.Served(sockets) == 0 || !time.Now().Before(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(drainPoll, time.Until(deadline))):
		}
	}
}
