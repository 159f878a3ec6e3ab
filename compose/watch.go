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
			if err := checkLoop(cmd, watch, interval, metricsAddr, gf); err != nil {
				return err
			}
			if g.gitops == nil && gf.needsGitOps(metricsAddr) {
				return gitopsHelper.exec()
			}
			e, err := g.openEngine()
			if err != nil {
				return err
			}
			defer e.Close()
			l, err := newLoop(e, cmd.OutOrStdout(), cmd.ErrOrStderr(), metricsAddr, g, gf)
			if err != nil {
				return err
			}
			defer l.close()
			// Drift repair, not up: what the user stopped, or a restart
			// policy left down, stays down.
			o := reconcile.Options{RemoveOrphans: removeOrphans, WaitOnChange: gf.rollback, WaitTimeout: gf.waitTimeout, KeepStopped: true}
			if !watch {
				return l.once(ctx, o)
			}
			stop, err := gf.serveWebhook(l.wake.poke)
			if err != nil {
				return err
			}
			defer stop()
			reconcile.Watch(ctx, l.load, l.locked, drivers(e), o, interval, l.wake, l.progress.event, l.report(ctx))
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
	kube := func(c *cobra.Command, call KubeCall) error {
		if err := checkLoop(c, watch, interval, metricsAddr, gf); err != nil {
			return err
		}
		return g.reconcileKube(c, call.Options, kubeLoop{watch: watch, interval: interval, metricsAddr: metricsAddr, gf: gf})
	}
	return withKube(cmd, g, true, kube, "watch", "interval", "metrics", "git", "ref", "path", "git-token-file", "git-token-env",
		"git-username", "git-password-file", "git-password-env", "git-ssh-key", "git-known-hosts", "webhook", "webhook-secret-file", "webhook-secret-env", "rollback", "wait-timeout")
}

// checkLoop checks reconcile's flags of the loop and of git.
func checkLoop(cmd *cobra.Command, watch bool, interval time.Duration, metricsAddr string, gf gitFlags) error {
	if interval <= 0 {
		return fmt.Errorf("--interval must be positive, not %s", interval)
	}
	if err := gf.check(cmd.Flags()); err != nil {
		return err
	}
	if (gf.webhook != "" || metricsAddr != "") && !watch {
		return errors.New("--webhook and --metrics need --watch")
	}
	return nil
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

// Warm passes the plan's warm-up on to the engine.
func (l *lockedObserver) Warm(p reconcile.Plan) {
	if w, ok := l.Observer.(reconcile.Warmer); ok {
		w.Warm(p)
	}
}

func (l *lockedObserver) release() {
	if l.unlock != nil {
		l.unlock()
		l.unlock = nil
	}
}
