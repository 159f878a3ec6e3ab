package kubecli

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/kube"
	"github.com/berth-dev/berth/spec"
)

// Check renders p without a cluster: what the mapping refuses is the
// error, so that reconcile --kube does not apply such a commit.
func (Runner) Check(p *spec.Project, o compose.KubeOptions) error {
	_, err := kube.Render(p, options(o))
	return err
}

// Apply is one pass of reconcile --kube: p planned against the cluster
// (server-side dry run, diff against the live objects, prune of what
// berth applied and p no longer declares) and the plan applied; with
// wait, a plan that changed something waits for the rollout of every
// workload, and fails naming those not ready.
func (Runner) Apply(ctx context.Context, p *spec.Project, call compose.KubeCall) (compose.KubePass, error) {
	o, out := call.Options, call.Out
	c, plan, err := planProject(ctx, p, o)
	if err != nil {
		return compose.KubePass{}, err
	}
	var pass compose.KubePass
	err = c.Apply(ctx, plan, o.ForceConflicts, func(ch kube.Change) {
		pass.Actions = append(pass.Actions, string(ch.Action))
		fmt.Fprintf(out, "%s %sd (%s)\n", ch.Target, ch.Action, ch.Reason)
	})
	pass.Totals = plan.Summary()
	if err == nil && call.Wait && !plan.Empty() {
		err = c.Wait(ctx, p.Name, call.WaitTimeout)
	}
	return pass, err
}
