package runtime

import (
	"io"
	"os/exec"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// A container's process that ends at once (sh -c 'exit 1') is a zombie
// before the held start looks: its command line reads empty for good, and
// awaitExec must see it ended rather than wait out its bound (up --wait
// saw such a container running for a second).
func TestAwaitExecSeesAnEndedProcess(t *testing.T) {
	cmd, in := startOnInput(t, "read _")
	defer cmd.Wait()
	pid := cmd.Process.Pid
	w, err := watchInit(pid) // watched before its end, named sh
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	if w.ended() {
		t.Fatalf("process %d runs but ended says it ended", pid)
	}
	in.Close()
	// Wait for its end without reaping it: a zombie.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	if !w.ended() {
		t.Fatalf("process %d ended but ended says no", pid)
	}
	if !w.awaitExec() {
		t.Fatal("awaitExec gave up at its bound on a process that ended before its exec")
	}
}

// awaitExec reads the init's name through one descriptor opened before
// the exec: the reads must see the process's name change when it
// executes another program, and fail once the process is reaped.
func TestInitWatchFollowsTheProcess(t *testing.T) {
	cmd, in := startOnInput(t, "read _; exec sleep 10")
	pid := cmd.Process.Pid
	w, err := watchInit(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	if string(w.init) != "sh" || w.ended() {
		t.Fatalf("before its exec: name %q, ended %v; want sh, running", w.init, w.ended())
	}
	in.Close() // sh reads end of input and executes sleep
	if !w.awaitExec() {
		t.Fatal("awaitExec gave up at its bound on a process that executed")
	}
	if name, ok := w.name(); !ok || string(name) != "sleep" || w.ended() {
		t.Fatalf("after its exec: name %q ok %v ended %v, want sleep, running", name, ok, w.ended())
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if name, ok := w.name(); ok {
		t.Fatalf("reaped, a read still gives name %q", name)
	}
	if !w.ended() || !w.awaitExec() {
		t.Fatal("a reaped process is not seen ended")
	}
}

// A watch missing its pidfd (pidfd_open refused), or its comm descriptor
// too, still waits for the exec and still sees the end, through
// /proc/PID/stat: it degrades rather than let the start be published
// before the exec. Without a pidfd, a zombie (whose name reads as
// before) must be seen ended.
func TestInitWatchWithoutDescriptors(t *testing.T) {
	for _, withComm := range []bool{true, false} {
		cmd, in := startOnInput(t, "read _; exec sleep 10")
		pid := cmd.Process.Pid
		var err error
		comm := -1
		if withComm {
			if comm, err = unix.Open("/proc/"+strconv.Itoa(pid)+"/comm", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
				t.Fatal(err)
			}
		}
		w := newInitWatch(pid, comm, -1)
		if string(w.init) != "sh" || w.ended() {
			t.Fatalf("comm %v, before its exec: name %q, ended %v; want sh, running", withComm, w.init, w.ended())
		}
		in.Close() // sh reads end of input and executes sleep
		if !w.awaitExec() {
			t.Fatalf("comm %v: awaitExec gave up at its bound on a process that executed", withComm)
		}
		if name, ok := w.name(); !ok || string(name) != "sleep" || w.ended() {
			t.Fatalf("comm %v, after its exec: name %q ok %v ended %v, want sleep, running", withComm, name, ok, w.ended())
		}
		_ = cmd.Process.Kill()
		var info unix.Siginfo // its end, not reaped: a zombie
		if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
			t.Fatal(err)
		}
		if !w.ended() {
			t.Fatalf("comm %v: a zombie is not seen ended", withComm)
		}
		_ = cmd.Wait()
		if name, ok := w.name(); ok || !w.ended() {
			t.Fatalf("comm %v: reaped, a read still gives name %q, or it is not seen ended", withComm, name)
		}
		w.close()
	}
}

// startOnInput starts a shell running script, which goes on once its
// input ends: the stand-in for a held init, named sh until it executes.
func startOnInput(t *testing.T, script string) (*exec.Cmd, io.Closer) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, in
}
