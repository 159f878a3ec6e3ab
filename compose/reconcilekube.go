package compose

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/spec"
)

// kubeLoop are reconcile's flags of the loop, as --kube takes them.
type kubeLoop struct {
	watch       bool
	interval    time.Duration
	metricsAddr string
	gf          gitFlags
}

// reconcileKube is reconcile --kube: each pass loads the stack (the stack
// file, or with --git the commit to converge to), plans it against the
// cluster and applies the plan, pruning what berth applied and the stack no
// longer declares. With --git, a commit whose stack does not load or does
// not map to Kubernetes is not applied, nor, with --rollback, one whose
// workloads are not rolled out within --wait-timeout (the cluster goes back
// to the last applied commit); status and metrics are kept as the host loop
// keeps them.
func (g *globals) reconcileKube(cmd *cobra.Command, o KubeOptions, l kubeLoop) error {
	if g.kube == nil {
		return kubeHelper.exec()
	}
	if g.gitops == nil && l.gf.needsGitOps(l.metricsAddr) {
		return gitopsHelper.exec()
	}
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	m, stopMetrics, err := serveMetrics(l.metricsAddr, g, l.gf)
	if err != nil {
		return err
	}
	defer stopMetrics()
	var tracked passes
	wake := newWakeup()
	load := g.loadProject
	record := func(KubePass, error) error { return nil }
	if l.gf.src.URL != "" {
		// The cluster's loop records no host events.
		f, err := l.gf.follower(g, ".kube", func(p *spec.Project) error { return g.kube.Check(p, o) }, followEvents(m, out, wake, func(error) {}))
		if err != nil {
			return err
		}
		load = f.Load
		record = func(p KubePass, err error) error { return f.Record(p, err) }
	}
	load = tracked.wrap(load)
	pass := func() error {
		var done KubePass
		p, err := load(ctx)
		if err == nil {
			done, err = g.kube.Apply(ctx, p, KubeCall{Command: "reconcile", Options: o, Wait: l.gf.rollback, WaitTimeout: l.gf.waitTimeout, Out: out})
		}
		d, drift := tracked.finish(err == nil)
		m.Record(done.Actions, err, d, drift)
		if rerr := record(done, err); rerr != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s recording the pass: %v\n", stamp(), rerr)
		}
		reportKube(out, done, err)
		return err
	}
	if !l.watch {
		return pass()
	}
	stop, err := l.gf.serveWebhook(wake.poke)
	if err != nil {
		return err
	}
	defer stop()
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		pass() // a failed pass is told and retried, never fatal
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-wake:
		}
	}
}

// reportKube prints the end of a pass as the host loop does.
func reportKube(out io.Writer, p KubePass, err error) {
	switch {
	case err != nil:
		fmt.Fprintf(out, "%s pass failed: %v\n", stamp(), err)
	case p.Empty():
		fmt.Fprintf(out, "%s converged: nothing to do\n", stamp())
	default:
		fmt.Fprintf(out, "%s applied: %s\n", stamp(), p.Summary())
	}
}
