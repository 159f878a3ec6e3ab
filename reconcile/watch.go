package reconcile

import (
	"context"
	"time"

	"github.com/berth-dev/berth/spec"
)

// Pass is the outcome of one reconcile pass of Watch.
type Pass struct {
	Plan Plan  // what the pass applied (empty when converged)
	Err  error // why the pass failed, if it did
}

// Watch keeps the host converged, level-based: every interval it loads the
// project afresh (so edits to the stack file are picked up), observes the
// host and applies what differs, repairing drift. A failed pass is
// reported and retried at the next tick, never fatal. A value on wake (a
// webhook's) starts the next pass at once; wake may be nil. It returns
// when ctx is done.
func Watch(ctx context.Context, load func(context.Context) (*spec.Project, error), host Observer, d Drivers,
	o Options, interval time.Duration, wake <-chan struct{}, events func(Event), report func(Pass)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		var pass Pass
		p, err := load(ctx)
		if err == nil {
			pass.Plan, err = Converge(ctx, p, host, d, o, events)
		}
		pass.Err = err
		if ctx.Err() != nil {
			return
		}
		report(pass)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
			tick.Reset(interval)
		}
	}
}
