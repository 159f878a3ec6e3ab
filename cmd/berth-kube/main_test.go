package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/kubetest"
	"github.com/berth-dev/berth/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// build builds berth and, with kube, berth-kube beside it, and returns
// berth's path.
func build(t *testing.T, kube bool) string {
	t.Helper()
	progs := []string{"berth"}
	if kube {
		progs = append(progs, "berth-kube")
	}
	return filepath.Join(testutil.BuildPrograms(t, progs...), "berth")
}

// run runs a program with args in an environment without BERTH_KUBE and
// with PATH holding only the system's directories; it returns stdout,
// stderr and the exit code.
func run(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	return testutil.RunProgram(t, []string{"BERTH_KUBE=", "PATH=/usr/bin:/bin", "BERTH_ROOT=" + t.TempDir()}, bin, args...)
}

// TestBerthExecsBerthKube: berth runs the Kubernetes forms by exec'ing
// berth-kube beside it, with the same arguments: its output, errors and
// exit code are the command's.
func TestBerthExecsBerthKube(t *testing.T) {
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t)
	berth := build(t, true)
	web := filepath.Join("..", "..", "kube", "testdata", "web", "compose.yaml")
	viaBerth, stderr, code := run(t, berth, "-f", web, "kube", "render")
	direct, _, _ := run(t, filepath.Join(filepath.Dir(berth), "berth-kube"), "-f", web, "kube", "render")
	if code != 0 || !strings.Contains(viaBerth, "kind: Deployment") || viaBerth != direct {
		t.Errorf("berth kube render: exit %d, %s\n%s", code, stderr, viaBerth)
	}
	out, stderr, code := run(t, berth, "-f", web, "plan", "--kube", "--kubeconfig", srv.Kubeconfig, "-n", ns)
	if code != 0 || !strings.Contains(out, "+ create deployment web (not in the cluster)") {
		t.Errorf("berth plan --kube: exit %d, %s\n%s", code, stderr, out)
	}
	refused := filepath.Join("..", "..", "kube", "testdata", "refused", "compose.yaml")
	out, stderr, code = run(t, berth, "-f", refused, "up", "--kube", "--kubeconfig", srv.Kubeconfig, "-n", ns)
	if code != 1 || out != "" || !strings.HasPrefix(stderr, "Error: ") || !strings.Contains(stderr, "compose.yaml:7: service \"app\": container_name cannot be mapped to Kubernetes") {
		t.Errorf("berth up --kube of a refused stack: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// TestBerthWithoutBerthKube: without berth-kube beside berth or in PATH,
// the Kubernetes forms fail with exit code 1, saying what is missing; the
// host forms and the help, with the --kube flags, are berth's own.
func TestBerthWithoutBerthKube(t *testing.T) {
	berth := build(t, false)
	web := filepath.Join("..", "..", "kube", "testdata", "web", "compose.yaml")
	_, stderr, code := run(t, berth, "-f", web, "plan", "--kube")
	if code != 1 || !strings.Contains(stderr, "the Kubernetes commands need berth-kube, which is not installed (looked beside "+berth+" or in PATH)") {
		t.Errorf("berth plan --kube without berth-kube: exit %d, %s", code, stderr)
	}
	out, _, code := run(t, berth, "up", "--help")
	if code != 0 || !strings.Contains(out, "--kube ") || !strings.Contains(out, "--force-conflicts") {
		t.Errorf("berth up --help:\n%s", out)
	}
}
