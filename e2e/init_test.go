package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// procStatus is one field of /proc/PID/status.
func procStatus(pid int, field string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// pidOf finds the host pid of the one process whose argv is argv.
func pidOf(t *testing.T, argv ...string) int {
	t.Helper()
	want := strings.Join(argv, "\x00") + "\x00"
	for i := 0; i < 100; i++ {
		paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range paths {
			if b, _ := os.ReadFile(p); string(b) == want {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
				return pid
			}
		}
		sleep()
	}
	t.Fatalf("no process %q", argv)
	return 0
}

// zombieChildren counts the zombies whose parent is pid.
func zombieChildren(pid int) int {
	paths, _ := filepath.Glob("/proc/[0-9]*/status")
	n := 0
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		if s := string(b); strings.Contains(s, "\nState:\tZ") && strings.Contains(s, fmt.Sprintf("\nPPid:\t%d\n", pid)) {
			n++
		}
	}
	return n
}

// init: true runs berth-init as PID 1: orphans are reaped (a container
// without it keeps them as zombies), the stop signal reaches the command,
// and its exit code is the container's.
func TestInit(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	mark := 100000 + rand.IntN(800000) // sleep lengths that name the test's processes
	orphans := `for i in 1 2 3; do sh -c "sleep 0.1 &"; done; exec sleep `
	u := busyboxProject(t, fmt.Sprintf(`
services:
  reaper:
    image: berth-e2e/busybox:1
    init: true
    command: ["sh", "-c", %[1]q]
  plain:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", %[2]q]
  trapper:
    image: berth-e2e/busybox:1
    init: true
    command: ["sh", "-c", "trap 'echo got-term > /term; exit 3' TERM; touch /ready; while true; do sleep 0.1; done"]
`, orphans+strconv.Itoa(mark), orphans+strconv.Itoa(mark+1)), "-t", "0")
	u.run("up", "-d")

	cmd := pidOf(t, "sleep", strconv.Itoa(mark))
	init := 0
	fmt.Sscan(procStatus(cmd, "PPid"), &init)
	argv, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", init))
	if !strings.HasPrefix(string(argv), "/sbin/docker-init\x00--\x00sh\x00") {
		t.Fatalf("the command's parent runs %q, want /sbin/docker-init -- sh ...", argv)
	}
	if ns := strings.Fields(procStatus(init, "NSpid")); len(ns) != 2 || ns[1] != "1" {
		t.Fatalf("the init's pids %q: it is not PID 1 in the container", ns)
	}
	control := pidOf(t, "sleep", strconv.Itoa(mark+1))
	time.Sleep(time.Second) // the orphans' sleep 0.1 are over
	if n := zombieChildren(control); n != 3 {
		t.Errorf("without init, PID 1 (sleep) has %d zombie children, want 3: the check would see none", n)
	}
	if n := zombieChildren(init); n != 0 {
		t.Errorf("with init, %d zombies are left", n)
	}

	for i := 0; ; i++ {
		if _, err := u.cpOut(nil, "cp", "trapper:/ready", "-"); err == nil {
			break
		}
		if i == 100 {
			t.Fatal("trapper never got ready")
		}
		sleep()
	}
	u.run("stop", "trapper")
	if out := u.run("ps", "-a", "trapper"); !strings.Contains(out, "Exited (3)") {
		t.Errorf("after stop, want the trap's exit code 3:\n%s", out)
	}
	if e := u.fetch("trapper:/term", "-")["term"]; e.body != "got-term\n" {
		t.Errorf("the trap's marker: %+v", e)
	}
}
