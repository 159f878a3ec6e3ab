package kube

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/kubetest"
	"github.com/berth-dev/berth/spec"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// cluster is a namespace of its own on the shared test API server.
func cluster(t *testing.T) (*Cluster, *kubetest.Server) {
	srv := kubetest.Shared(t)
	c, err := NewCluster(srv.Config, srv.Namespace(t))
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// plan renders p, observes the cluster, dry-runs and plans, as plan --kube.
func plan(t *testing.T, c *Cluster, p *spec.Project, force bool) (Plan, error) {
	t.Helper()
	ctx := context.Background()
	objs, err := Render(p, Options{Namespace: c.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	obs, err := c.Observe(ctx, p.Name, objs)
	if err != nil {
		t.Fatal(err)
	}
	dry, err := c.DryRun(ctx, objs, force)
	if err != nil {
		return Plan{}, err
	}
	return PlanApply(p.Name, objs, obs, dry)
}

// up plans and applies p, as up --kube.
func up(t *testing.T, c *Cluster, p *spec.Project) Plan {
	t.Helper()
	pl, err := plan(t, c, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(context.Background(), pl, false, nil); err != nil {
		t.Fatal(err)
	}
	return pl
}

func targets(p Plan, a Action) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Action == a {
			out = append(out, c.Target)
		}
	}
	slices.Sort(out)
	return out
}

// TestDryRunAcceptsEveryObject: the API server validates and takes every
// object the golden stacks render.
func TestDryRunAcceptsEveryObject(t *testing.T) {
	c, _ := cluster(t)
	for _, stack := range []string{"web", "jobs"} {
		objs, err := Render(load(t, stack), Options{Namespace: c.Namespace})
		if err != nil {
			t.Fatal(err)
		}
		dry, err := c.DryRun(context.Background(), objs, false)
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		if len(dry.Objects) != len(objs) {
			t.Errorf("%s: %d dry runs of %d objects", stack, len(dry.Objects), len(objs))
		}
	}
}

// TestUpThenPlanNothing: after up, plan plans nothing; an environment
// change plans exactly one update of one Deployment, naming the field.
func TestUpThenPlanNothing(t *testing.T) {
	c, _ := cluster(t)
	p := load(t, "web")
	first := up(t, c, p)
	if len(targets(first, Create)) != len(first.Changes) || first.Empty() {
		t.Fatalf("first up is not all creates:\n%s", first)
	}
	again, err := plan(t, c, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Fatalf("plan after up is not empty:\n%s", again)
	}
	for i := range p.Services {
		if p.Services[i].Name == "web" {
			p.Services[i].Environment["MODE"] = "staging"
		}
	}
	changed, err := plan(t, c, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed.Changes) != 1 || changed.Changes[0].Action != Update || changed.Changes[0].Target != "deployment web" {
		t.Fatalf("an environment change plans:\n%s", changed)
	}
	if want := `spec.template.spec.containers[0].env[0].value: "production" → "staging"`; changed.Changes[0].Reason != want {
		t.Errorf("reason = %q, want %q", changed.Changes[0].Reason, want)
	}
}

// TestPruneOnlyOwnObjects: removing a service prunes exactly its objects;
// another project's objects, and an object with the project's label that
// another field manager made, stay.
func TestPruneOnlyOwnObjects(t *testing.T) {
	c, srv := cluster(t)
	ctx := context.Background()
	shop, ledger := load(t, "web"), load(t, "jobs")
	up(t, c, shop)
	up(t, c, ledger)
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	foreign := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "foreign", "labels": map[string]any{LabelProject: "shop"}}}}
	if _, err := dyn.Resource(kinds["ConfigMap"].gvr).Namespace(c.Namespace).Create(ctx, foreign, metav1.CreateOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}
	shop.Services = slices.DeleteFunc(shop.Services, func(s spec.Service) bool { return s.Name == "cache" })
	pl, err := plan(t, c, shop, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := targets(pl, Delete), []string{"deployment cache", "service cache"}; !slices.Equal(got, want) || len(pl.Changes) != 2 {
		t.Fatalf("removing cache plans:\n%s\nwant deletes %v only", pl, want)
	}
	if err := c.Apply(ctx, pl, false, nil); err != nil {
		t.Fatal(err)
	}
	down := PlanDown(mustObserve(t, c, "shop"))
	for _, ch := range down.Changes {
		if ch.Target == "configmap foreign" {
			t.Error("down deletes an object another field manager made")
		}
	}
	if err := c.Apply(ctx, down, false, nil); err != nil {
		t.Fatal(err)
	}
	if left := mustObserve(t, c, "shop").Labelled; len(left) != 1 || left[0].GetName() != "foreign" {
		t.Errorf("after down, shop has %d objects, want only configmap foreign", len(left))
	}
	again, err := plan(t, c, ledger, false)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Errorf("shop's down changed project ledger:\n%s", again)
	}
}

func mustObserve(t *testing.T, c *Cluster, project string) Observed {
	t.Helper()
	obs, err := c.Observe(context.Background(), project, nil)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

// TestConflictAndForce: a field another manager took is a conflict,
// reported; --force-conflicts takes it back.
func TestConflictAndForce(t *testing.T) {
	c, srv := cluster(t)
	ctx := context.Background()
	p := load(t, "web")
	up(t, c, p)
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	scale := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web"}, "spec": map[string]any{"replicas": int64(5)}}}
	if _, err := dyn.Resource(kinds["Deployment"].gvr).Namespace(c.Namespace).Apply(ctx, "web", scale,
		metav1.ApplyOptions{FieldManager: "kubectl", Force: true}); err != nil {
		t.Fatal(err)
	}
	p.Services[slices.IndexFunc(p.Services, func(s spec.Service) bool { return s.Name == "web" })].Scale = 3
	_, err = plan(t, c, p, false)
	if err == nil || !IsConflict(errors.Unwrap(err)) && !strings.Contains(err.Error(), "conflict") {
		t.Fatalf("plan with a conflict = %v, want a conflict", err)
	}
	if !strings.Contains(err.Error(), "--force-conflicts") || !strings.Contains(err.Error(), "deployment web") {
		t.Errorf("the conflict error does not say what and how: %v", err)
	}
	pl, err := plan(t, c, p, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(ctx, pl, true, nil); err != nil {
		t.Fatal(err)
	}
	again, err := plan(t, c, p, false)
	if err != nil {
		t.Fatalf("after --force-conflicts: %v", err)
	}
	if !again.Empty() {
		t.Errorf("after --force-conflicts the plan is not empty:\n%s", again)
	}
}

// TestJobChangeReplaces: a one-shot service whose pod template changes is
// replaced (a Job's template is immutable), and then up to date.
func TestJobChangeReplaces(t *testing.T) {
	c, _ := cluster(t)
	p := load(t, "jobs")
	up(t, c, p)
	p.Services[slices.IndexFunc(p.Services, func(s spec.Service) bool { return s.Name == "migrate" })].Command = []string{"migrate", "down"}
	pl, err := plan(t, c, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Changes) != 1 || pl.Changes[0].Action != Replace || pl.Changes[0].Target != "job migrate" {
		t.Fatalf("a changed Job plans:\n%s", pl)
	}
	if err := c.Apply(context.Background(), pl, false, nil); err != nil {
		t.Fatal(err)
	}
	again, err := plan(t, c, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Errorf("after the replace:\n%s", again)
	}
}

// setStatus writes a Deployment's status as its controller would (there
// is no kubelet or deployment controller here).
func setStatus(t *testing.T, dyn dynamic.Interface, ns, name string, status map[string]any) {
	t.Helper()
	res := dyn.Resource(kinds["Deployment"].gvr).Namespace(ns)
	o, err := res.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status["observedGeneration"] = o.GetGeneration()
	o.Object["status"] = status
	if _, err := res.UpdateStatus(context.Background(), o, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestWait: up --wait waits for every workload to be rolled out, names
// those that are not when it times out, and fails with the reason of a
// rollout that cannot finish.
func TestWait(t *testing.T) {
	c, srv := cluster(t)
	ctx := context.Background()
	up(t, c, load(t, "web"))
	err := c.Wait(ctx, "shop", 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not ready: deployment cache, deployment web") {
		t.Fatalf("Wait before any rollout = %v", err)
	}
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	setStatus(t, dyn, c.Namespace, "cache", map[string]any{"replicas": int64(1), "updatedReplicas": int64(1), "readyReplicas": int64(1)})
	setStatus(t, dyn, c.Namespace, "web", map[string]any{"conditions": []any{map[string]any{"type": "Progressing", "status": "False",
		"reason": "ProgressDeadlineExceeded", "message": "web has timed out progressing"}}})
	err = c.Wait(ctx, "shop", 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "deployment web failed: Progressing: ProgressDeadlineExceeded") {
		t.Fatalf("Wait with a stuck rollout = %v", err)
	}
	setStatus(t, dyn, c.Namespace, "web", map[string]any{"replicas": int64(2), "updatedReplicas": int64(2), "readyReplicas": int64(2)})
	if err := c.Wait(ctx, "shop", 5*time.Second); err != nil {
		t.Fatalf("Wait once rolled out = %v", err)
	}
}
