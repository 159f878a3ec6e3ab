package runtime

import (
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// A container's process that ends at once (sh -c 'exit 1') is a zombie
// before the held start looks: its command line reads empty for good, and
// awaitExec must see it ended rather than wait out its bound (up --wait
// saw such a container running for a second).
func TestAwaitExecSeesAnEndedProcess(t *testing.T) {
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	// Wait for its end without reaping it: a zombie.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	if !exited(pid) {
		t.Fatalf("process %d ended but exited says no", pid)
	}
	if exited(1) {
		t.Fatal("exited says pid 1 ended")
	}
	if !awaitExec(pid, []byte("runc:[2:INIT]")) {
		t.Fatal("awaitExec gave up at its bound on a process that had ended")
	}
	if !awaitExec(pid, []byte("true")) {
		t.Fatal("awaitExec gave up at its bound on a process that ended before its exec")
	}
}
