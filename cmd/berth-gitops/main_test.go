package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// build builds berth and, with gitops, berth-gitops beside it, and
// returns berth's path.
func build(t *testing.T, gitops bool) string {
	t.Helper()
	progs := []string{"berth"}
	if gitops {
		progs = append(progs, "berth-gitops")
	}
	return filepath.Join(testutil.BuildPrograms(t, progs...), "berth")
}

// run runs berth with args in an environment without BERTH_GITOPS, with
// PATH holding only the system's directories and private state roots; it
// returns stdout, stderr and the exit code.
func run(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	return testutil.RunProgram(t, []string{"BERTH_GITOPS=", "PATH=/usr/bin:/bin", "BERTH_ROOT=" + t.TempDir(), "BERTH_RUN_ROOT=" + t.TempDir()}, bin, args...)
}

// TestBerthExecsBerthGitops: berth follows git by exec'ing berth-gitops
// beside it, with the same arguments: the error of a repository that
// cannot be fetched is the follower's, which only berth-gitops links.
// (e2e's reconcile tests follow real repositories through berth.)
func TestBerthExecsBerthGitops(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("reconcile opens the host's state, which needs root")
		}
		t.Skip("reconcile opens the host's state, which needs root")
	}
	berth := build(t, true)
	missing := "file://" + filepath.Join(t.TempDir(), "no-such-repo")
	_, stderr, code := run(t, berth, "-p", "gitopsexec", "reconcile", "--git", missing)
	if code != 1 || !strings.Contains(stderr, "fetch "+missing) {
		t.Errorf("berth reconcile --git of a missing repository: exit %d, %s", code, stderr)
	}
}

// TestBerthWithoutBerthGitops: without berth-gitops beside berth or in
// PATH, reconcile --git and --metrics fail with exit code 1, saying what
// is missing, before touching the host; the help, with the git flags, and
// reconcile status are berth's own.
func TestBerthWithoutBerthGitops(t *testing.T) {
	berth := build(t, false)
	for _, args := range [][]string{
		{"reconcile", "--git", "https://example.invalid/stacks.git"},
		{"reconcile", "--watch", "--metrics", "127.0.0.1:0"},
	} {
		_, stderr, code := run(t, berth, args...)
		if code != 1 || !strings.Contains(stderr, "reconcile --git and --metrics need berth-gitops, which is not installed (looked beside "+berth+" or in PATH)") {
			t.Errorf("berth %v without berth-gitops: exit %d, %s", args, code, stderr)
		}
	}
	out, _, code := run(t, berth, "reconcile", "--help")
	if code != 0 || !strings.Contains(out, "--git ") || !strings.Contains(out, "--metrics ") {
		t.Errorf("berth reconcile --help:\n%s", out)
	}
	if out, stderr, code := run(t, berth, "reconcile", "status"); code != 0 || !strings.Contains(out, "NAME") {
		t.Errorf("berth reconcile status: exit %d, %s%s", code, out, stderr)
	}
}
