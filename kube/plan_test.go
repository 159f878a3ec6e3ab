package kube

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// obj is a small object of kind and name, labelled with project, applied
// by manager ("" for none).
func obj(kind, name, project, manager string, spec map[string]any) Object {
	u := &unstructured.Unstructured{Object: map[string]any{"kind": kind, "metadata": map[string]any{"name": name}, "spec": spec}}
	if project != "" {
		u.SetLabels(map[string]string{LabelProject: project})
	}
	if manager != "" {
		u.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: manager, Operation: metav1.ManagedFieldsOperationApply}})
	}
	return Object{u}
}

func TestPlanApply(t *testing.T) {
	web := obj("Deployment", "web", "shop", "", map[string]any{"replicas": int64(2)})
	db := obj("Service", "db", "shop", "", map[string]any{"ports": []any{map[string]any{"port": int64(80)}}})
	liveWeb := obj("Deployment", "web", "shop", FieldManager, map[string]any{"replicas": int64(2)})
	liveDB := obj("Service", "db", "shop", FieldManager, map[string]any{"ports": []any{map[string]any{"port": int64(80)}}})
	afterDB := obj("Service", "db", "shop", FieldManager, map[string]any{"ports": []any{map[string]any{"port": int64(8080)}}})
	old := obj("PersistentVolumeClaim", "shop-old", "shop", FieldManager, nil)
	foreign := obj("ConfigMap", "notes", "shop", "kubectl", nil)
	obs := Observed{
		Labelled: []Object{old, foreign, liveDB, liveWeb},
		Live:     map[string]Object{"deployment web": liveWeb, "service db": liveDB},
	}
	dry := DryRuns{Objects: map[string]Object{"deployment web": liveWeb, "service db": afterDB}}
	cache := obj("Deployment", "cache", "shop", "", nil)
	p, err := PlanApply("shop", []Object{cache, db, web}, obs, dry)
	if err != nil {
		t.Fatal(err)
	}
	want := `+ create deployment cache (not in the cluster)
~ update service db (spec.ports[0].port: 80 → 8080)
- delete pvc shop-old (no longer in the stack)
Plan: 1 to create, 1 to update, 1 to delete.
`
	if got := p.String(); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}

	obs.Live["deployment cache"] = obj("Deployment", "cache", "ledger", FieldManager, nil)
	if _, err := PlanApply("shop", []Object{cache}, obs, dry); err == nil || !strings.Contains(err.Error(), `belongs to project "ledger"`) {
		t.Errorf("an object of another project: %v", err)
	}

	down := PlanDown(obs)
	var targets []string
	for _, c := range down.Changes {
		targets = append(targets, c.Target)
	}
	if !slices.Equal(targets, []string{"deployment web", "service db", "pvc shop-old"}) {
		t.Errorf("down deletes %v (in reverse apply order, nothing another manager made)", targets)
	}
}

func TestDiffLeavesServerFieldsOut(t *testing.T) {
	a := obj("Deployment", "web", "shop", FieldManager, map[string]any{"replicas": int64(1)})
	b := obj("Deployment", "web", "shop", "other", map[string]any{"replicas": int64(1)})
	b.SetResourceVersion("42")
	b.SetGeneration(7)
	b.Object["status"] = map[string]any{"readyReplicas": int64(1)}
	if d := Diff(a, b); len(d) != 0 {
		t.Errorf("Diff = %v, want none", d)
	}
	b.Object["spec"] = map[string]any{"replicas": int64(1), "paused": true}
	if d := Diff(a, b); !slices.Equal(d, []string{"spec.paused: (none) → true"}) {
		t.Errorf("Diff = %v", d)
	}
}

func TestReady(t *testing.T) {
	job := obj("Job", "migrate", "shop", "", nil)
	job.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}}}
	if ready, failed := Ready(job); ready || !strings.Contains(failed, "BackoffLimitExceeded") {
		t.Errorf("a failed Job: ready %v, failed %q", ready, failed)
	}
	job.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Complete", "status": "True"}}}
	if ready, _ := Ready(job); !ready {
		t.Error("a complete Job is not ready")
	}
}
