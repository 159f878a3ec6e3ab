package compose

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubeBerth runs berth's command line (without berth-kube's runner) in
// process and returns its output.
func kubeBerth(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := NewRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestKubeFlagsNeedKube: a cluster flag without --kube is bad input.
func TestKubeFlagsNeedKube(t *testing.T) {
	_, err := kubeBerth(t, "-f", filepath.Join("..", "kube", "testdata", "web", "compose.yaml"), "plan", "-n", "x")
	if err == nil || !strings.Contains(err.Error(), "--namespace needs --kube") {
		t.Errorf("plan -n x = %v", err)
	}
	_, err = kubeBerth(t, "-f", filepath.Join("..", "kube", "testdata", "web", "compose.yaml"), "up", "--kube", "--scale", "web=3")
	if err == nil || !strings.Contains(err.Error(), "--scale is not supported with --kube") {
		t.Errorf("up --kube --scale = %v", err)
	}
}

// TestKubeNeedsBerthKube: without berth-kube the --kube forms fail, saying
// what is missing and where berth looked.
func TestKubeNeedsBerthKube(t *testing.T) {
	t.Setenv("BERTH_KUBE", filepath.Join(t.TempDir(), "berth-kube"))
	file := filepath.Join("..", "kube", "testdata", "web", "compose.yaml")
	for _, args := range [][]string{{"plan", "--kube"}, {"kube", "render"}, {"down", "--kube"}, {"reconcile", "--kube", "--git", "."}} {
		_, err := kubeBerth(t, append([]string{"-f", file}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "need berth-kube, which is not installed") || !strings.Contains(err.Error(), "BERTH_KUBE=") {
			t.Errorf("%s without berth-kube = %v", strings.Join(args, " "), err)
		}
	}
}

// A helper's variable naming berth itself is refused, not exec'd (berth
// would exec itself for ever); a symbolic link to it too. Another
// program is let through.
func TestHelperThatIsBerthRefused(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "berth-kube")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	for _, h := range []helper{kubeHelper, gitopsHelper} {
		for _, path := range []string{self, link} {
			t.Setenv(h.env, path)
			err := h.notBerth(path)
			if err == nil || !strings.Contains(err.Error(), "is this berth itself") || !strings.Contains(err.Error(), "named by "+h.env) {
				t.Errorf("%s=%s: %v", h.env, path, err)
			}
		}
	}
	other := filepath.Join(t.TempDir(), "berth-kube")
	if err := os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := kubeHelper.notBerth(other); err != nil {
		t.Errorf("another program refused: %v", err)
	}
}
