package compose

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

func newReconcileCommand(g *globals) *cobra.Command {
	var watch, removeOrphans bool
	var interval time.Duration
	var gf gitFlags
	var metricsAddr string
	cmd := &cobra.Command{
		Use:   "reconcile [OPTIONS]",
		Short: "Converge the host to the stack file or a git repository once, or for ever with --watch (GitOps), repairing drift",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if interval <= 0 {
				return fmt.Errorf("--interval must be positive, not %s", interval)
			}
			if err := gf.check(cmd.Flags()); err != nil {
				return err
			}
			if (gf.webhook != "" || metricsAddr != "") && !watch {
				return errors.New("--webhook and --metrics need --watch")
			}
			e, err := g.openEngine()
			if err != nil {
				return err
			}
			defer e.Close()
			out := cmd.OutOrStdout()
			progress := newProgress(out)
			// Each pass re-reads the stack and holds the project lock only
			// while it runs, so other berth commands can work between.
			load := func(ctx context.Context) (*spec.Project, error) { return g.loadProject(ctx) }
			record := func(reconcile.Pass) error { return nil }
			wake := make(chan struct{}, 1)
			poke := func() {
				select {
				case wake <- struct{}{}:
				default: // a pass is already due
				}
			}
			m, stopMetrics, err := serveMetrics(metricsAddr, g, gf)
			if err != nil {
				return err
			}
			defer stopMetrics()
			var tracked passes
			// Passes that change the host or fail, and commits not applied,
			// are project events; converged passes are not (one every
			// interval would push the containers' events out).
			event := func(action string, attrs map[string]string) {
				if tracked.project != "" {
					e.ProjectEvent(ctx, tracked.project, "reconcile", action, attrs)
				}
			}
			if gf.src.URL != "" {
				tracked.project = gf.stackName(g)
				f, err := gf.follower(g)
				if err != nil {
					return err
				}
				load, record = f.Load, f.Report
				f.OnFail = func(err error) {
					m.RolledBack()
					event("not-applied", map[string]string{"error": err.Error()})
					poke() // converge back to the applied commit at once
					fmt.Fprintf(out, "%s not applied: %v\n", time.Now().UTC().Format(time.RFC3339), err)
				}
				f.OnFetch, f.OnApply = m.Fetched, m.Applied
				if c := f.AppliedCommit(); c != "" {
					m.Applied(c)
				}
			}
			load = tracked.wrap(load)
			drv := drivers(e)
			locked := &lockedObserver{Observer: e, lock: e.LockProject}
			o := reconcile.Options{RemoveOrphans: removeOrphans, WaitOnChange: gf.rollback, WaitTimeout: gf.waitTimeout}
			report := func(p reconcile.Pass) {
				locked.release()
				stamp := time.Now().UTC().Format(time.RFC3339)
				// Recorded before it is told, so what status shows is never
				// behind what was printed.
				tracked.done(p, m)
				switch {
				case p.Err != nil:
					event("failed", map[string]string{"error": p.Err.Error()})
				case !p.Plan.Empty():
					event("applied", map[string]string{"summary": p.Plan.Summary()})
				}
				if err := record(p); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s recording the pass: %v\n", stamp, err)
				}
				switch {
				case p.Err != nil:
					fmt.Fprintf(out, "%s pass failed: %v\n", stamp, p.Err)
				case p.Plan.Empty():
					fmt.Fprintf(out, "%s converged: nothing to do\n", stamp)
				default:
					fmt.Fprintf(out, "%s applied: %s\n", stamp, p.Plan.Summary())
				}
			}
			if !watch {
				p, err := load(ctx)
				if err == nil {
					var plan reconcile.Plan
					plan, err = reconcile.Converge(ctx, p, locked, drv, o, progress.event)
					report(reconcile.Pass{Plan: plan, Err: err})
				} else {
					record(reconcile.Pass{Err: err})
				}
				locked.release()
				return err
			}
			stop, err := gf.serveWebhook(poke)
			if err != nil {
				return err
			}
			defer stop()
			reconcile.Watch(ctx, load, locked, drv, o, interval, wake, progress.event, report)
			locked.release()
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&watch, "watch", "w", false, "keep reconciling every --interval until interrupted")
	f.DurationVar(&interval, "interval", 30*time.Second, "time between passes with --watch")
	f.BoolVar(&removeOrphans, "remove-orphans", false, "remove containers of services no longer in the stack file")
	f.StringVar(&metricsAddr, "metrics", "", "with --watch: serve Prometheus /metrics and /healthz on this address")
	gf.register(f)
	cmd.AddCommand(newReconcileStatusCommand(g))
	return cmd
}

// lockedObserver takes the project lock when a pass starts observing; the
// pass's report releases it.
type lockedObserver struct {
	reconcile.Observer
	lock   func(ctx context.Context, project string) (func(), error)
	unlock func()
}

func (l *lockedObserver) Observe(ctx context.Context, p *spec.Project) (reconcile.Observed, error) {
	if l.unlock == nil {
		unlock, err := l.lock(ctx, p.Name)
		if err != nil {
			return reconcile.Observed{}, err
		}
		l.unlock = unlock
	}
	return l.Observer.Observe(ctx, p)
}

// Check passes the plan check on to the engine.
func (l *lockedObserver) Check(ctx context.Context, p reconcile.Plan) error {
	if c, ok := l.Observer.(reconcile.Checker); ok {
		return c.Check(ctx, p)
	}
	return nil
}

func (l *lockedObserver) release() {
	if l.unlock != nil {
		l.unlock()
		l.unlock = nil
	}
}
