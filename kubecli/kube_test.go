package kubecli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/gitopscli"
	"github.com/berth-dev/berth/internal/kubetest"
	"github.com/berth-dev/berth/kube"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// berth runs berth-kube's command line, args, in process and returns its
// output.
func berth(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := compose.NewRootCommand(compose.WithKube(Runner{}), compose.WithGitOps(gitopscli.Runner{}))
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestKubeCommands drives kube render, plan, up, ps and down --kube
// against a real API server.
func TestKubeCommands(t *testing.T) {
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t)
	file := filepath.Join("..", "kube", "testdata", "web", "compose.yaml")
	kube := []string{"--kube", "--kubeconfig", srv.Kubeconfig, "-n", ns}
	run := func(args ...string) string {
		t.Helper()
		out, err := berth(t, append([]string{"-f", file}, args...)...)
		if err != nil {
			t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	dir := t.TempDir()
	run("kube", "render", "-o", dir)
	files, _ := os.ReadDir(dir)
	if len(files) != 11 {
		t.Errorf("render -o wrote %d files, want 11", len(files))
	}
	plan := run(append([]string{"plan"}, kube...)...)
	if !strings.Contains(plan, "+ create deployment web (not in the cluster)") || !strings.Contains(plan, "Plan: 11 to create, 0 to update, 0 to delete.") {
		t.Errorf("first plan:\n%s", plan)
	}
	if out := run(append([]string{"plan", "--format", "json"}, kube...)...); !strings.Contains(out, `"action": "create"`) || !strings.Contains(out, `"target": "deployment web"`) {
		t.Errorf("plan --kube --format json:\n%s", out)
	}
	if out := run(append([]string{"up"}, kube...)...); strings.Count(out, " created (") != 11 {
		t.Errorf("up --kube:\n%s", out)
	}
	if out := run(append([]string{"plan"}, kube...)...); out != "Nothing to do: the project is up to date.\n" {
		t.Errorf("plan after up:\n%s", out)
	}
	ps := run(append([]string{"ps"}, kube...)...)
	if !strings.Contains(ps, "web") || !strings.Contains(ps, "Deployment") || !strings.Contains(ps, "0/2") {
		t.Errorf("ps --kube:\n%s", ps)
	}
	if out := run("down", "--kube", "--kubeconfig", srv.Kubeconfig, "-n", ns); strings.Count(out, " deleted (") != 11 {
		t.Errorf("down --kube:\n%s", out)
	}
	if out := run(append([]string{"plan"}, kube...)...); !strings.Contains(out, "11 to create") {
		t.Errorf("plan after down:\n%s", out)
	}
}

// TestWaitImageDefault: berth's --wait-image default, written out so that
// berth does not link package kube, is kube's.
func TestWaitImageDefault(t *testing.T) {
	up, _, err := compose.NewRootCommand().Find([]string{"up"})
	if err != nil {
		t.Fatal(err)
	}
	if got := up.Flags().Lookup("wait-image").DefValue; got != kube.DefaultWaitImage {
		t.Errorf("--wait-image defaults to %q, kube.DefaultWaitImage is %q", got, kube.DefaultWaitImage)
	}
}
