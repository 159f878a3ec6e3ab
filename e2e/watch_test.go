package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// `reconcile --watch` keeps the host converged: it brings the stack up,
// leaves stopped what the user stopped and a one-shot that is done (its
// restart policy is "no"), follows edits of the file, and stops on Ctrl-C.
func TestReconcileWatch(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	stack := `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; echo gen=$$GEN; while true; do sleep 0.1; done"]
    environment: {GEN: "1"}
  once:
    image: berth-e2e/busybox:1
    command: ["true"]
`
	u := busyboxProject(t, stack, "-v", "-t", "0")
	watch := u.start("reconcile", "--watch", "--interval", "300ms")
	wait := watch.wait
	wait("applied: Plan: 0 to pull, 3 to create")
	wait("converged: nothing to do")

	u.run("stop", "app") // the user's: it stays stopped
	for range 3 {        // passes after the stop (the first may have begun before it)
		wait("converged: nothing to do")
	}
	if rows := psRows(t, u); rows["app"]["State"] != "exited" || rows["once"]["State"] != "exited" {
		t.Fatalf("after the stop: %v", rows)
	}
	if plan := u.run("plan", "--reconcile"); !strings.Contains(plan, "= keep container "+u.project+"-app-1 stopped (kept: stopped by the user)") ||
		!strings.Contains(plan, `= keep container `+u.project+`-once-1 stopped (kept: restart policy "no", it exited with code 0)`) {
		t.Fatalf("plan --reconcile:\n%s", plan)
	}
	u.run("start", "app") // the user's again
	wait("converged: nothing to do")

	os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(strings.Replace(stack, `GEN: "1"`, `GEN: "2"`, 1)), 0o644)
	wait("1 to recreate")
	wait("converged: nothing to do")
	if out := u.run("logs", "app"); !strings.Contains(out, "gen=2") {
		t.Fatalf("the edit did not reach the container:\n%s", out)
	}

	watch.interrupt()
	for _, l := range watch.seen {
		if strings.Contains(l, "1 to start") {
			t.Fatalf("the watch started a container the user or its restart policy left stopped:\n%s", strings.Join(watch.seen, "\n"))
		}
	}
}
