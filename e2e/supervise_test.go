package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// The service writes one line per start only: a write to the pipe of a dead
// shim would end it.
const supervisedStack = `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo started; echo kept > /kept-$$RANDOM; exec sleep 100000"]
    healthcheck: {test: ["CMD", "true"], interval: 200ms}
    stop_grace_period: 1s
`

// killShim SIGKILLs the shim of container name and waits until it is gone.
func killShim(t *testing.T, u *user, name string) {
	t.Helper()
	pids := pidsOf(t, " shim "+name+" ", u.root)
	if len(pids) != 1 {
		t.Fatalf("want one shim of %s, found %v", name, pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pids[0], 0) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("shim %d of %s outlived SIGKILL", pids[0], name)
		}
	}
}

// waitOutput runs berth args until its output contains want.
func (u *user) waitOutput(want string, args ...string) string {
	t := u.t
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, _ := u.try(args...)
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("berth %v never showed %q; last:\n%s", args, want, out)
		}
	}
}

func TestDeadShimShowsAndUpRestartsIt(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, supervisedStack, "-v", "-t", "0")
	name := u.project + "-app-1"
	u.run("up", "-d", "--wait")
	u.waitOutput("(healthy)", "ps")
	upper := filepath.Join(u.root, "containers", name, "upper")
	before, _ := filepath.Glob(filepath.Join(upper, "kept-*"))
	if len(before) != 1 {
		t.Fatalf("the container's first file: %v", before)
	}

	killShim(t, u, name)
	if out := u.run("ps"); !strings.Contains(out, "(supervisor died)") || strings.Contains(out, "healthy") {
		t.Fatalf("ps after the shim's death:\n%s", out)
	}
	if out := u.run("plan"); !strings.Contains(out, "stop container "+name+" (its supervisor died)") ||
		!strings.Contains(out, "start container "+name+" (its supervisor died)") {
		t.Fatalf("plan after the shim's death:\n%s", out)
	}
	u.run("up", "-d")
	// Supervised again: health checks run, output is logged, the writable
	// layer is the one it had.
	u.waitOutput("(healthy)", "ps")
	if out := u.waitOutput("started\n", "logs", "--no-log-prefix", "app"); strings.Count(out, "started") != 2 {
		t.Fatalf("logs after the restart:\n%s", out)
	}
	after, _ := filepath.Glob(filepath.Join(upper, "kept-*"))
	if len(after) != 2 || !strings.Contains(strings.Join(after, " "), before[0]) {
		t.Fatalf("the writable layer was not kept: before %v, after %v", before, after)
	}
	if _, err := os.Stat(upper); err != nil {
		t.Fatal(err)
	}
	if out := u.run("plan"); strings.Contains(out, "container") {
		t.Fatalf("the second up would still do:\n%s", out)
	}
	if pids := pidsOf(t, " shim "+name+" ", u.root); len(pids) != 1 {
		t.Fatalf("shims of %s after up: %v", name, pids)
	}
}
