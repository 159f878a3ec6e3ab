package kube

import (
	"context"
	"fmt"
)

// Workload is one workload of the project in the cluster, as ps shows it.
type Workload struct {
	Service string `json:"service"`
	Kind    string `json:"kind"` // Deployment, StatefulSet, Job
	Name    string `json:"name"`
	Ready   string `json:"ready"`  // "1/2": ready (or succeeded) of desired
	Status  string `json:"status"` // from its conditions: "available", "progressing", "complete", "failed", …
}

// Workloads lists the project's workloads in the namespace, in apply
// order then by name.
func (c *Cluster) Workloads(ctx context.Context, project string) ([]Workload, error) {
	obs, err := c.Observe(ctx, project, nil)
	if err != nil {
		return nil, err
	}
	var out []Workload
	for _, o := range obs.Labelled {
		kind := o.GetKind()
		if kind != kindDeployment && kind != kindStatefulSet && kind != kindJob {
			continue
		}
		out = append(out, workload(o))
	}
	return out, nil
}

// workload reads a workload's readiness from its status.
func workload(o Object) Workload {
	w := Workload{Service: o.GetLabels()[LabelService], Kind: o.GetKind(), Name: o.GetName()}
	num := func(path ...string) int64 {
		n, _, _ := unstructuredInt(o.Object, path...)
		return n
	}
	switch w.Kind {
	case kindJob:
		w.Ready = fmt.Sprintf("%d/%d", num("status", "succeeded"), num("spec", "completions"))
	default:
		w.Ready = fmt.Sprintf("%d/%d", num("status", "readyReplicas"), num("spec", "replicas"))
	}
	w.Status = "pending"
	conds, _, _ := unstructuredSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] == "True" {
			w.Status = lower(fmt.Sprint(m["type"]))
		}
	}
	return w
}
