package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is berth-init itself when asked, so that the tests run
// the real init as a child (a subreaper here, as it is not PID 1).
func TestMain(m *testing.M) {
	if os.Getenv("BERTH_INIT_TEST") == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func initCmd(args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], append([]string{"--"}, args...)...)
	cmd.Env = append(os.Environ(), "BERTH_INIT_TEST=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return ee.ExitCode()
}

func TestExitStatus(t *testing.T) {
	for script, want := range map[string]int{"exit 0": 0, "exit 42": 42, "kill -9 $$": 137, "kill -TERM $$": 143} {
		cmd, out := initCmd("sh", "-c", script)
		if got := exitCode(t, cmd.Run()); got != want {
			t.Errorf("%q: exit %d, want %d\n%s", script, got, want, out)
		}
	}
	cmd, out := initCmd("no-such-command-here")
	if got := exitCode(t, cmd.Run()); got != 127 || !strings.Contains(out.String(), "exec no-such-command-here failed") {
		t.Errorf("a missing command: exit %d, %q", got, out)
	}
}

// zombiesOf counts the zombie children of pid.
func zombiesOf(t *testing.T, pid int) int {
	t.Helper()
	paths, _ := filepath.Glob("/proc/[0-9]*/status")
	n := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		if strings.Contains(s, "\nState:\tZ") && strings.Contains(s, "\nPPid:\t"+strconv.Itoa(pid)+"\n") {
			n++
		}
	}
	return n
}

// Orphans that end are reaped: the command makes three and never waits.
func TestReapsOrphans(t *testing.T) {
	cmd, out := initCmd("sh", "-c", `for i in 1 2 3; do sh -c "sleep 0.1 &"; done; exec sleep 2`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	time.Sleep(700 * time.Millisecond)
	if n := zombiesOf(t, cmd.Process.Pid); n != 0 {
		t.Errorf("%d zombies left under the init", n)
	}
	// The orphans did reach the init: with its children reaped, only the
	// command is left as its child.
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/*/children")
	var kids []string
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		kids = append(kids, strings.Fields(string(b))...)
	}
	if len(kids) != 1 {
		t.Errorf("children of the init: %q, want just the command", kids)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if got := exitCode(t, cmd.Wait()); got != 143 {
		t.Errorf("after SIGTERM: exit %d, want 143\n%s", got, out)
	}
}

// A signal to the init reaches the command, whose exit status is the init's.
func TestForwardsSignals(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	cmd, out := initCmd("sh", "-c", `trap 'echo got-term; exit 3' TERM; touch `+ready+`; while :; do sleep 0.05; done`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for i := 0; ; i++ {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if i == 200 {
			t.Fatal("the command never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if got := exitCode(t, cmd.Wait()); got != 3 || !strings.Contains(out.String(), "got-term") {
		t.Errorf("exit %d, output %q; want 3 and the trap's output", got, out)
	}
}
