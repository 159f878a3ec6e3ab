package compose

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// loop is one run of `berth reconcile`: where its passes load the stack
// from (the stack file, or git), and how each pass is recorded (status,
// metrics, events) and told.
type loop struct {
	e           *engine.Engine
	out, errOut io.Writer
	progress    *progress
	load        func(context.Context) (*spec.Project, error)
	record      func(reconcile.Pass) error // the git follower's status
	metrics     LoopMetrics
	stopMetrics func()
	tracked     passes
	wake        wakeup // a pass is due at once (a webhook, a commit not applied)
	// locked holds the project lock from a pass's observation to its report,
	// so other berth commands can work between passes.
	locked *lockedObserver
}

func newLoop(e *engine.Engine, out, errOut io.Writer, metricsAddr string, g *globals, gf gitFlags) (*loop, error) {
	l := &loop{e: e, out: out, errOut: errOut, progress: newProgress(out), wake: newWakeup(),
		load:   func(ctx context.Context) (*spec.Project, error) { return g.loadProject(ctx) },
		record: func(reconcile.Pass) error { return nil },
		locked: &lockedObserver{Observer: e, lock: e.LockProject}}
	var err error
	if l.metrics, l.stopMetrics, err = serveMetrics(metricsAddr, g, gf); err != nil {
		return nil, err
	}
	if gf.src.URL != "" {
		if err := l.follow(g, gf); err != nil {
			l.stopMetrics()
			return nil, err
		}
	}
	l.load = l.tracked.wrap(l.load)
	return l, nil
}

// follow makes the loop's passes follow the stack in git.
func (l *loop) follow(g *globals, gf gitFlags) error {
	l.tracked.project = gf.stackName(g)
	f, err := gf.follower(g, "", nil, followEvents(l.metrics, l.out, l.wake, func(err error) {
		l.event(context.Background(), "not-applied", map[string]string{"error": err.Error()})
	}))
	if err != nil {
		return err
	}
	l.load = f.Load
	l.record = func(p reconcile.Pass) error { return f.Record(p.Plan, p.Err) }
	return nil
}

func (l *loop) close() {
	l.locked.release()
	l.stopMetrics()
}

// event records a reconcile event of the project. Passes that change the
// host or fail, and commits not applied, are events; converged passes are
// not (one every interval would push the containers' events out).
func (l *loop) event(ctx context.Context, action string, attrs map[string]string) {
	if l.tracked.project != "" {
		l.e.ProjectEvent(ctx, l.tracked.project, "reconcile", action, attrs)
	}
}

// once runs one pass.
func (l *loop) once(ctx context.Context, o reconcile.Options) error {
	p, err := l.load(ctx)
	if err != nil {
		l.record(reconcile.Pass{Err: err})
		return err
	}
	plan, err := reconcile.Converge(ctx, p, l.locked, drivers(l.e), o, l.progress.event)
	l.report(ctx)(reconcile.Pass{Plan: plan, Err: err})
	return err
}

// report is the end of a pass: the lock released, the pass recorded (before
// it is told, so status is never behind what was printed) and printed.
func (l *loop) report(ctx context.Context) func(reconcile.Pass) {
	return func(p reconcile.Pass) {
		l.locked.release()
		l.tracked.done(p, l.metrics)
		switch {
		case p.Err != nil:
			l.event(ctx, "failed", map[string]string{"error": p.Err.Error()})
		case !p.Plan.Empty():
			l.event(ctx, "applied", map[string]string{"summary": p.Plan.Summary()})
		}
		if err := l.record(p); err != nil {
			fmt.Fprintf(l.errOut, "%s recording the pass: %v\n", stamp(), err)
		}
		switch {
		case p.Err != nil:
			fmt.Fprintf(l.out, "%s pass failed: %v\n", stamp(), p.Err)
		case p.Plan.Empty():
			fmt.Fprintf(l.out, "%s converged: nothing to do\n", stamp())
		default:
			fmt.Fprintf(l.out, "%s applied: %s\n", stamp(), p.Plan.Summary())
		}
	}
}

// stamp is the time a loop line starts with.
func stamp() string { return time.Now().UTC().Format(time.RFC3339) }
