package kubecli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/gitops"
	"github.com/berth-dev/berth/gitopscli"
	"github.com/berth-dev/berth/internal/kubetest"
)

// repo is a git repository holding a stack in shop/compose.yaml.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit commits stack as shop/compose.yaml and returns the commit.
func (r *repo) commit(msg, stack string) string {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Join(r.dir, "shop"), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "shop", "compose.yaml"), []byte(stack), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func webStack(image string, replicas int) string {
	return "services:\n  web:\n    image: " + image + "\n    restart: always\n    deploy:\n      replicas: " +
		string(rune('0'+replicas)) + "\n"
}

// deployment is the image and replicas of Deployment web in ns.
func deployment(t *testing.T, srv *kubetest.Server, ns string) (string, int64) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dyn.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns).
		Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Deployment web: %v", err)
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	replicas, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	image, _ := containers[0].(map[string]any)["image"].(string)
	return image, replicas
}

// TestReconcileGitKube: reconcile --git --kube applies each new commit to
// the cluster; a commit that does not load, or does not map to
// Kubernetes, is not applied, and the cluster keeps the last good one.
func TestReconcileGitKube(t *testing.T) {
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t)
	origin := newRepo(t)
	root := t.TempDir()
	pass := func() string {
		t.Helper()
		out, err := berth(t, "--root", root, "reconcile", "--git", origin.dir, "--ref", "main", "--path", "shop",
			"--kube", "--kubeconfig", srv.Kubeconfig, "-n", ns)
		if err != nil {
			t.Fatalf("reconcile --git --kube: %v\n%s", err, out)
		}
		return out
	}
	status := func() gitops.Status {
		t.Helper()
		s, err := gitops.ReadStatus(filepath.Join(root, "gitops", "shop.kube"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	first := origin.commit("first", webStack("registry.example/web:1", 1))
	if out := pass(); !strings.Contains(out, "deployment web created") || !strings.Contains(out, "applied: 3 to create, 0 to update, 0 to delete") {
		t.Errorf("first pass:\n%s", out)
	}
	if img, n := deployment(t, srv, ns); img != "registry.example/web:1" || n != 1 {
		t.Errorf("after the first commit the Deployment runs %s ×%d", img, n)
	}
	if s := status(); s.Applied != first {
		t.Errorf("status applied %q, want the first commit %s", s.Applied, first)
	}
	if out := pass(); !strings.Contains(out, "converged: nothing to do") {
		t.Errorf("second pass of the same commit:\n%s", out)
	}

	second := origin.commit("web 2, three replicas", webStack("registry.example/web:2", 3))
	if out := pass(); !strings.Contains(out, "deployment web updated") || !strings.Contains(out, "applied: 0 to create, 1 to update, 0 to delete") {
		t.Errorf("pass of the second commit:\n%s", out)
	}
	if img, n := deployment(t, srv, ns); img != "registry.example/web:2" || n != 3 {
		t.Errorf("after the second commit the Deployment runs %s ×%d", img, n)
	}

	for _, bad := range []struct{ name, stack, why string }{
		{"does not load", "services:\n  web:\n    image: registry.example/web:3\n    privileged: maybe\n", "privileged"},
		{"does not map", "services:\n  web:\n    image: registry.example/web:3\n    restart: always\n    network_mode: host\n", "network_mode cannot be mapped to Kubernetes"},
	} {
		c := origin.commit(bad.name, bad.stack)
		out := pass()
		if !strings.Contains(out, "not applied: commit "+c[:7]) || !strings.Contains(out, bad.why) {
			t.Errorf("pass of a commit that %s:\n%s", bad.name, out)
		}
		if img, n := deployment(t, srv, ns); img != "registry.example/web:2" || n != 3 {
			t.Errorf("a commit that %s was applied: the Deployment runs %s ×%d", bad.name, img, n)
		}
		if s := status(); s.Applied != second || s.Failed == nil || s.Failed.Commit != c {
			t.Errorf("status after a commit that %s: applied %s, failed %+v", bad.name, s.Applied, s.Failed)
		}
	}
}

// TestReconcileWatchKube: with --watch the loop follows new commits
// until interrupted, and prunes what a commit no longer declares.
func TestReconcileWatchKube(t *testing.T) {
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t)
	origin := newRepo(t)
	origin.commit("first", webStack("registry.example/web:1", 1)+"  worker:\n    image: registry.example/worker:1\n    restart: always\n")
	ctx, cancel := context.WithCancel(context.Background())
	root := compose.NewRootCommand(compose.WithKube(Runner{}), compose.WithGitOps(gitopscli.Runner{}))
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"--root", t.TempDir(), "reconcile", "--watch", "--interval", "100ms", "--git", origin.dir,
		"--ref", "main", "--path", "shop", "--kube", "--kubeconfig", srv.Kubeconfig, "-n", ns})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("reconcile --watch --kube: %v", err)
		}
	}()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	deployments := dyn.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns)
	get := func(name string) (*unstructured.Unstructured, error) {
		return deployments.Get(context.Background(), name, metav1.GetOptions{})
	}
	waitFor("the first commit", func() bool { _, err := get("worker"); return err == nil })
	origin.commit("web 2, no worker", webStack("registry.example/web:2", 2))
	waitFor("the second commit", func() bool {
		d, err := get("web")
		if err != nil {
			return false
		}
		n, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
		_, gone := get("worker")
		return n == 2 && gone != nil
	})
	if img, _ := deployment(t, srv, ns); img != "registry.example/web:2" {
		t.Errorf("the Deployment runs %s after the second commit", img)
	}
}

// TestReconcileKubeRollback: with --rollback, a commit whose workloads are
// not rolled out within --wait-timeout is not applied, and the next pass
// puts the last applied commit back. (There is no kubelet: no rollout ever
// completes.)
func TestReconcileKubeRollback(t *testing.T) {
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t)
	origin := newRepo(t)
	root := t.TempDir()
	pass := func(extra ...string) (string, error) {
		return berth(t, append([]string{"--root", root, "reconcile", "--git", origin.dir, "--ref", "main", "--path", "shop",
			"--kube", "--kubeconfig", srv.Kubeconfig, "-n", ns}, extra...)...)
	}
	origin.commit("first", webStack("registry.example/web:1", 1))
	if out, err := pass(); err != nil {
		t.Fatalf("first pass: %v\n%s", err, out)
	}
	second := origin.commit("second", webStack("registry.example/web:2", 1))
	out, err := pass("--rollback", "--wait-timeout", "1s")
	if err == nil || !strings.Contains(out, "deployment web updated") || !strings.Contains(out, "not applied: commit "+second[:7]) ||
		!strings.Contains(out, "not ready: deployment web") {
		t.Errorf("a pass whose rollout does not complete: %v\n%s", err, out)
	}
	if out, err := pass(); err != nil || !strings.Contains(out, "deployment web updated") {
		t.Errorf("the pass after the rollback: %v\n%s", err, out)
	}
	if img, _ := deployment(t, srv, ns); img != "registry.example/web:1" {
		t.Errorf("after the rollback the Deployment runs %s", img)
	}
	s, err := gitops.ReadStatus(filepath.Join(root, "gitops", "shop.kube"))
	if err != nil || s.Failed == nil || s.Failed.Commit != second || s.Applied == second {
		t.Errorf("status after the rollback: %+v, %v", s, err)
	}
}
