package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// `reconcile --watch` keeps the host converged: it brings the stack up,
// restarts what was stopped behind its back, follows edits of the file,
// and stops on Ctrl-C.
func TestReconcileWatch(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	stack := `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; echo gen=$$GEN; while true; do sleep 0.1; done"]
    environment: {GEN: "1"}
`
	u := busyboxProject(t, stack, "-v", "-t", "0")
	watch := u.start("reconcile", "--watch", "--interval", "300ms")
	wait := watch.wait
	wait("applied: Plan: 0 to pull, 2 to create")
	wait("converged: nothing to do")

	u.run("stop") // behind the watcher's back
	wait("applied: Plan: 0 to pull, 0 to create, 0 to recreate, 1 to start")
	wait("converged: nothing to do")

	os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(strings.Replace(stack, `GEN: "1"`, `GEN: "2"`, 1)), 0o644)
	wait("1 to recreate")
	wait("converged: nothing to do")
	if out := u.run("logs", "app"); !strings.Contains(out, "gen=2") {
		t.Fatalf("the edit did not reach the container:\n%s", out)
	}

	watch.interrupt()
}
