package kube

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Ready reports whether a workload is done starting: a Deployment or
// StatefulSet with every replica updated and ready, a Job complete. failed
// is set, with the reason from its conditions, when it cannot get there
// (a Job failed, a Deployment past its progress deadline).
func Ready(o Object) (ready bool, failed string) {
	num := func(path ...string) int64 {
		n, _, _ := unstructuredInt(o.Object, path...)
		return n
	}
	conds, _, _ := unstructuredSlice(o.Object, "status", "conditions")
	cond := func(typ, status string) (bool, string) {
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == typ && m["status"] == status {
				return true, fmt.Sprintf("%s: %v (%v)", typ, m["reason"], m["message"])
			}
		}
		return false, ""
	}
	switch o.GetKind() {
	case kindJob:
		if ok, why := cond("Failed", "True"); ok {
			return false, why
		}
		ok, _ := cond("Complete", "True")
		return ok, ""
	case kindDeployment, kindStatefulSet:
		if ok, why := cond("Progressing", "False"); ok {
			return false, why
		}
		want := num("spec", "replicas")
		return num("status", "observedGeneration") >= o.GetGeneration() &&
			num("status", "updatedReplicas") == want && num("status", "readyReplicas") == want, ""
	}
	return true, ""
}

// Wait returns when every Deployment and StatefulSet of the project is
// rolled out and every Job complete; it fails naming the object and the
// reason from its conditions when one fails, or those not ready when
// timeout (0: none) passes.
func (c *Cluster) Wait(ctx context.Context, project string, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	for {
		obs, err := c.Observe(ctx, project, nil)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("waiting for project %s: %w", project, ctx.Err())
			}
			return err
		}
		var pending []string
		for _, o := range obs.Labelled {
			ready, failed := Ready(o)
			if failed != "" {
				return fmt.Errorf("%s failed: %s", o.Ref(), failed)
			}
			if !ready {
				pending = append(pending, o.Ref())
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for project %s: not ready: %s: %w", project, strings.Join(pending, ", "), ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
