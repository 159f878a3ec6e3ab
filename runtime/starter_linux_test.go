package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"golang.org/x/sys/unix"
)

// withStarter has the test's starts go through the starter, with
// berth-idle built for their supervisors; it returns berth-idle's path.
// It skips on a kernel that gives no exit status through a pidfd (Linux
// before 6.15), unless CI=true.
func withStarter(t *testing.T) string {
	t.Helper()
	if !exitInfoSupported() {
		if os.Getenv("CI") == "true" {
			t.Fatal("the kernel gives no exit status through a pidfd (Linux 6.15): the starter cannot run")
		}
		t.Skip("the kernel gives no exit status through a pidfd (Linux 6.15)")
	}
	bin := withIdle(t)
	t.Setenv(starterEnv, "1")
	return bin
}

// shimOf is the pid of container id's supervisor (the Go shim or
// berth-idle: both run with the shim's arguments), 0 when there is none.
func shimOf(id string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		data, err := os.ReadFile(d + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		if len(args) > 2 && args[1] == "shim" && args[2] == id {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	return 0
}

// The starter starts containers side by side and gives each berth-idle as
// its supervisor from birth, the init not its child: the output is
// logged, exit codes come through the init's pidfd (the restart policy
// acts on them, the exit hook and the events record them), a stop wakes
// the Go shim, which signals the init through the pidfd, and a drop is
// served by berth-idle, which reads the exit code the same way. Nothing is
// left once the containers are removed.
func TestStarterRuns(t *testing.T) {
	bin := withStarter(t)
	e := newTestEnv(t)
	ctx := context.Background()
	sleeper, stopped := e.config("echo out-1; exec sleep 1000"), e.config("exec sleep 1000")
	exits := e.config("echo bye; sleep 0.3; exit 7")
	restarts := e.config("sleep 0.2; exit 3")
	restarts.Restart = "on-failure:1"
	cs := []Config{sleeper, stopped, exits, restarts}
	errs := make(chan error, len(cs))
	for _, c := range cs {
		go func() { errs <- e.rt.Start(ctx, c) }()
	}
	for range cs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st := e.waitFor(t, sleeper.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	sup := shimOf(sleeper.ID)
	if sup == 0 {
		t.Fatal("no supervisor runs")
	}
	if got := exeOf(sup); got != bin {
		t.Errorf("the supervisor runs %q, want berth-idle from birth", got)
	}
	if p := parentOf(t, st.Pid); p == sup {
		t.Errorf("the init %d is its supervisor's child: not started by the starter", st.Pid)
	}
	e.waitLogFile(t, sleeper.ID, 1)
	if got := e.logLines(t, sleeper.ID, LogOptions{Tail: -1}); !slices.Equal(got, []string{"stdout: out-1"}) {
		t.Errorf("log %q", got)
	}

	if st := e.waitExited(t, exits.ID); st.ExitCode != 7 {
		t.Errorf("exit code %d, want 7", st.ExitCode)
	}
	if got := hookCodes(t, exits.ID); !slices.Equal(got, []string{"7"}) {
		t.Errorf("exit hook codes %q, want [7]", got)
	}
	if got := hookEvents(exits.ID); !slices.Equal(got, []string{"start", "die exitCode=7"}) {
		t.Errorf("events %q", got)
	}
	if got := e.logLines(t, exits.ID, LogOptions{Tail: -1}); !slices.Equal(got, []string{"stdout: bye"}) {
		t.Errorf("log %q", got)
	}
	if st := e.waitExited(t, restarts.ID); st.ExitCode != 3 || st.Restarts != 1 {
		t.Errorf("state %+v, want exit 3 after 1 restart", st)
	}
	if got := hookCodes(t, restarts.ID); !slices.Equal(got, []string{"3", "3"}) {
		t.Errorf("exit hook codes %q, want [3 3]", got)
	}

	if err := e.rt.Stop(ctx, stopped.ID, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if st, err := e.rt.State(ctx, stopped.ID); err != nil || st.ExitCode != 137 || !st.Stopped {
		t.Errorf("after Stop: %+v, %v; want exit 137, stopped", st, err)
	}
	if got := hookEvents(stopped.ID); !slices.Equal(got, []string{"start", "kill signal=15", "kill signal=9", "die exitCode=137", "stop"}) {
		t.Errorf("events of the stop %q", got)
	}

	evs, err := e.rt.Drop(ctx, sleeper.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := eventLines(evs); !slices.Equal(got, dropped) {
		t.Errorf("Drop returned events %q, want %q", got, dropped)
	}
	if exeOf(sup) == bin {
		if err := waitUnlocked(ctx, e.rt.paths(sleeper.ID).dir); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := e.rt.State(ctx, sleeper.ID); err != nil || st.ExitCode != 137 {
		t.Errorf("after Drop: %+v, %v; want exit 137", st, err)
	}
}

// A supervisor that is not its init's parent reads the exit status
// through the pidfd once whoever is the parent has reaped the init, an
// exit code or a signal; it signals the init through the pidfd, never a
// process that took its pid.
func TestNonChildExitThroughPidfd(t *testing.T) {
	if !exitInfoSupported() {
		t.Skip("the kernel gives no exit status through a pidfd (Linux 6.15)")
	}
	for _, tc := range []struct {
		script string
		kill   bool
		want   string
	}{
		{script: "exit 7", want: "exit status 7"},
		{script: "exec sleep 1000", kill: true, want: "signal: killed"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", tc.script)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			fd, err := unix.PidfdOpen(cmd.Process.Pid, unix.PIDFD_NONBLOCK)
			if err != nil {
				t.Fatal(err)
			}
			init, err := adoptNonChild(cmd.Process.Pid, fd)
			if err != nil {
				t.Fatal(err)
			}
			if tc.kill {
				if init.exited() {
					t.Fatal("a sleeping process reads as exited")
				}
				if err := init.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
			// Reaped here, as the starter or the reaper reaps it: the
			// status is the adopter's to read after that only.
			go func() { _ = cmd.Wait() }()
			ws, err := init.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if got := statusText(ws); got != tc.want {
				t.Errorf("status %q, want %q", got, tc.want)
			}
			if err := init.Signal(syscall.SIGKILL); !errors.Is(err, os.ErrProcessDone) {
				t.Errorf("signalling the reaped init: %v, want it done", err)
			}
		})
	}
}

// statusText is ws as os.ProcessState prints it.
func statusText(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return "signal: " + ws.Signal().String()
	}
	return fmt.Sprintf("status %#x", uint32(ws))
}

// A container with health checks, which berth-idle cannot run from
// birth, gets the Go shim as its supervisor from the starter: it runs the
// checks, goes idle between them (a probe every 700 ms, idle after 300:
// waiting for an init that is not its child never holds its going idle
// up) and reads that init's exit.
func TestStarterGoShimSupervises(t *testing.T) {
	bin := withStarter(t)
	e := newTestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := e.config("trap 'exit 4' TERM; while true; do sleep 0.05; done")
	c.Health = &Health{Test: []string{"true"}, Interval: 700 * time.Millisecond}
	e.start(t, c)
	// A wait for health right after the start must see it.
	if st, err := e.rt.State(ctx, c.ID); err != nil || st.Health == "" {
		t.Errorf("state right after the start %+v, %v; want a health status", st, err)
	}
	sup := shimOf(c.ID)
	if exe := exeOf(sup); sup == 0 || exe == bin {
		t.Fatalf("supervisor %d runs %q, want the Go shim", sup, exe)
	}
	st := e.waitFor(t, c.ID, "healthy", func(s State) bool { return s.Health == "healthy" })
	if p := parentOf(t, st.Pid); p == sup {
		t.Errorf("the init %d is its supervisor's child: not started by the starter", st.Pid)
	}
	waitExe(t, sup, bin, true)
	if err := e.rt.Stop(ctx, c.ID, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if st, err := e.rt.State(ctx, c.ID); err != nil || st.ExitCode != 4 {
		t.Errorf("after Stop: %+v, %v; want exit 4", st, err)
	}
}

// With the starter's reaper killed, the inits it would have reaped go to
// the kernel's init once the starter ends, and the exit code still comes
// through the pidfd once that one reaps them.
func TestStarterReaperKilled(t *testing.T) {
	withStarter(t)
	e := newTestEnv(t)
	sig := t.TempDir()
	c := e.config("while [ ! -e /sig/exit ]; do sleep 0.05; done; exit 5")
	c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
	e.start(t, c)
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	reaper := 0
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		if data, err := os.ReadFile(d); err == nil && strings.Contains(string(data), "--reap\x00") && strings.Contains(string(data), "\x00"+e.root+"\x00") {
			reaper, _ = strconv.Atoi(filepath.Base(filepath.Dir(d)))
		}
	}
	if reaper == 0 {
		t.Fatal("no reaper runs")
	}
	if err := syscall.Kill(reaper, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = e.rt.Close() // the starter ends: the init is the kernel's init's now
	deadline := time.Now().Add(30 * time.Second)
	for parentOf(t, st.Pid) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the init's parent is %d, want 1", parentOf(t, st.Pid))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(sig, "exit"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := e.waitExited(t, c.ID); st.ExitCode != 5 {
		t.Errorf("exit code %d, want 5", st.ExitCode)
	}
}

// The starter starts, or prepares, what berth-idle can supervise from
// birth; a terminal, an open stdin, a run whose output a client replays,
// and BERTH_STARTER=0 keep a shim of their own.
func TestUseStarter(t *testing.T) {
	withStarter(t)
	r := New(t.TempDir(), t.TempDir())
	for _, tc := range []struct {
		name string
		c    Config
		off  bool
		want bool
	}{
		{name: "plain", want: true},
		{name: "health", c: Config{Health: &Health{Test: []string{"true"}}}, want: true},
		{name: "tty", c: Config{Tty: true}},
		{name: "stdin", c: Config{OpenStdin: true}},
		{name: "replayed", c: Config{Replayed: true}},
		{name: "off", off: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.off {
				t.Setenv(starterEnv, "0")
			}
			if got := r.useStarter(tc.c); got != tc.want {
				t.Errorf("useStarter = %v, want %v", got, tc.want)
			}
		})
	}
}

// starterRuns reports whether the starter of the runtime under root runs
// (not its reaper, whose arguments hold the starter's).
func starterRuns(root string) bool { return starterPid(root) != 0 }

// starterPid is the pid of the starter of root, 0 when none runs.
func starterPid(root string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err == nil && strings.HasPrefix(string(data), "berth\x00"+starterArg+"\x00"+root+"\x00") {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
			return pid
		}
	}
	return 0
}

// awaitStarter waits until the starter of root runs (its reaper execs
// it) and returns its pid.
func awaitStarter(t *testing.T, root string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pid := starterPid(root); pid != 0 {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatal("no starter runs after WarmStarter")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awaitNoStarter waits until no starter of root runs; what names the
// starter that should end, for the failure.
func awaitNoStarter(t *testing.T, root, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for starterRuns(root) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never ended", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A starter warmed for a start it will make runs before that start,
// which then goes through it; none is warmed for a start it would not
// make (a terminal). Asked nothing, a warmed starter ends a moment
// later.
func TestWarmStarter(t *testing.T) {
	withStarter(t)
	e := newTestEnv(t)
	tty := e.config("exec sleep 1000")
	tty.Tty = true
	if e.rt.WarmStarter(tty) {
		t.Error("WarmStarter says a start with a terminal goes through the starter")
	}
	time.Sleep(300 * time.Millisecond) // a starter spawned would run by now
	if starterRuns(e.root) {
		t.Fatal("a starter was warmed for a start with a terminal, which it does not make")
	}
	c := e.config("exec sleep 1000")
	if !e.rt.WarmStarter(c) {
		t.Error("WarmStarter says a plain start does not go through the starter")
	}
	warm := awaitStarter(t, e.root)
	e.start(t, c)
	if parent := initParent(t, e, c.ID); parent != warm {
		t.Fatalf("the init's parent is %d (%s), want the warmed starter %d", parent, cmdline(parent), warm)
	}
	if st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running }); !st.Shim {
		t.Errorf("state %+v, want supervised", st)
	}
	awaitNoStarter(t, e.root, "the starter, after its start,")
	e.rt.WarmStarter(c) // asked nothing from here on
	awaitStarter(t, e.root)
	awaitNoStarter(t, e.root, "a warmed starter asked nothing")
}

// initParent waits until container id runs and returns the parent of its
// init: the process that started it (a starter, or its own shim), while
// that one lives.
func initParent(t *testing.T, e *testEnv, id string) int {
	t.Helper()
	st := e.waitFor(t, id, "running", func(s State) bool { return s.Status == lifecycle.Running && s.Pid > 0 })
	return parentOf(t, st.Pid)
}

// A starter with nothing to start ends a moment later, while its Runtime
// lives on (reconcile --watch keeps no Go process resident between its
// rounds); the next start spawns another.
func TestStarterEndsWhenIdle(t *testing.T) {
	withStarter(t)
	e := newTestEnv(t)
	for round := range 2 {
		c := e.config("exec sleep 1000")
		e.start(t, c)
		if !starterRuns(e.root) {
			t.Fatalf("round %d: no starter runs right after the start", round)
		}
		awaitNoStarter(t, e.root, fmt.Sprintf("round %d: the idle starter", round))
		if st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running }); !st.Shim {
			t.Errorf("round %d: state %+v, want supervised", round, st)
		}
	}
}
