package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testutil"
)

// execStack is a project whose service web runs a shell loop, up.
func execStack(t *testing.T) *user {
	t.Helper()
	u := busyboxProject(t, `
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    environment: {FROM_SERVICE: svc}
    working_dir: /etc
`, "-t", "0")
	u.run("up", "-d")
	return u
}

// exec runs berth exec with stdin and returns stdout, stderr and the exit
// code apart.
func (u *user) exec(stdin string, args ...string) (string, string, int) {
	u.t.Helper()
	return u.split(stdin, append([]string{"exec"}, args...)...)
}

func TestExecNoTTY(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := execStack(t)

	for script, want := range map[string]int{"true": 0, "false": 1, "exit 42": 42, "kill -9 $$": 137} {
		if _, errOut, code := u.exec("", "-T", "web", "sh", "-c", script); code != want {
			t.Errorf("exec %q: exit code %d, want %d; stderr %q", script, code, want, errOut)
		}
	}
	if out, _, code := u.exec("hi\nthere\n", "-T", "web", "cat"); out != "hi\nthere\n" || code != 0 {
		t.Errorf("stdin through cat: %q, exit %d", out, code)
	}
	out, errOut, _ := u.exec("", "-T", "web", "sh", "-c", "echo out; echo err >&2")
	if out != "out\n" || errOut != "err\n" {
		t.Errorf("stdout %q, stderr %q; want them apart", out, errOut)
	}
	// Not a terminal on either side: no TTY without -T either.
	if out, _, code := u.exec("", "web", "sh", "-c", "tty; echo $FROM_SERVICE; pwd; id -u"); out != "not a tty\nsvc\n/etc\n0\n" || code != 0 {
		t.Errorf("the service's environment and working directory, no tty: %q (exit %d)", out, code)
	}
	out, _, _ = u.exec("", "-T", "-u", "nobody", "-w", "/tmp", "-e", "FROM_SERVICE=over", "-e", "NEW=n", "web",
		"sh", "-c", "echo $FROM_SERVICE $NEW; pwd; id -u")
	if out != "over n\n/tmp\n65534\n" {
		t.Errorf("-u -w -e: %q", out)
	}
	if _, errOut, code := u.exec("", "-d", "web", "sh", "-c", "touch /tmp/detached"); code != 0 || errOut != "" {
		t.Errorf("-d: exit %d, %q", code, errOut)
	}
	waitFor(t, "the detached command's file", func() bool { _, _, code := u.exec("", "-T", "web", "test", "-f", "/tmp/detached"); return code == 0 })

	// Ctrl-C without a terminal: berth passes SIGINT on to the process.
	sleeper := exec.Command(u.bin, "-p", u.project, "exec", "-T", "web", "sleep", "100")
	sleeper.Dir, sleeper.Env = u.dir, u.env
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill() })
	waitFor(t, "sleep to run", func() bool {
		out, _, _ := u.exec("", "-T", "web", "sh", "-c", "ps -o args | grep -x 'sleep 100'")
		return strings.TrimSpace(out) == "sleep 100"
	})
	sleeper.Process.Signal(syscall.SIGINT)
	if err := sleeper.Wait(); sleeper.ProcessState.ExitCode() != 130 {
		t.Errorf("exec -T interrupted: %v, want exit status 130", err)
	}

	if _, errOut, code := u.exec("", "-T", "--index", "2", "web", "true"); code != 1 || !strings.Contains(errOut, `service "web" is not running container #2`) {
		t.Errorf("--index 2: exit %d, %q", code, errOut)
	}
	if _, errOut, code := u.exec("", "-T", "-u", "nosuchuser", "web", "true"); code != 1 || !strings.Contains(errOut, "nosuchuser") {
		t.Errorf("unknown user: exit %d, %q", code, errOut)
	}
	u.run("stop", "-t", "0", "web")
	if _, errOut, code := u.exec("", "-T", "web", "true"); code != 1 || strings.TrimSpace(errOut) != `Error: service "web" is not running` {
		t.Errorf("exec into a stopped service: exit %d, %q", code, errOut)
	}
}

// TestExecTerminal drives `berth exec web sh` from a pseudo-terminal, as a
// person at a terminal would.
func TestExecTerminal(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := execStack(t)

	term := newTerminal(t, 24, 80)
	_, exited := term.start(u, "exec", "web", "sh")
	term.type_("tty; echo $((6*7)) term-$TERM\r")
	term.screen.wait(t, "42 term-xterm")
	if !strings.Contains(term.screen.String(), "/dev/pts/") {
		t.Errorf("the shell has no terminal: %q", term.screen.String())
	}
	if termios(t, term.tty) == term.before {
		t.Error("the local terminal is not in raw mode during the session")
	}
	term.type_("stty size\r")
	term.screen.wait(t, "24 80")
	term.resize(50, 132)
	term.ask("stty size\r", "50 132")

	term.type_("sleep 100\r")
	waitFor(t, "sleep to run", func() bool {
		out, _, _ := u.exec("", "-T", "web", "sh", "-c", "ps -o args | grep -x 'sleep 100'")
		return strings.TrimSpace(out) == "sleep 100"
	})
	term.type_("\x03") // Ctrl-C
	term.type_("echo back-$((2+3))\r")
	term.screen.wait(t, "back-5") // well before the sleep's 100 s

	term.type_("exit 3\r")
	if code := ended(t, exited); code != 3 {
		t.Errorf("the session ended with %d, want exit status 3", code)
	}
	term.restored()

	// Another way out: the process killed by a signal.
	_, exited = term.start(u, "exec", "web", "sh", "-c", "kill -9 $$")
	if code := ended(t, exited); code != 137 {
		t.Errorf("a killed process: exit %d, want exit status 137", code)
	}
	term.restored()
}

func termios(t *testing.T, f *os.File) unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return *tio
}

// screen is what a terminal has shown.
type screen struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// readScreen copies what appears on the master side of a pty.
func readScreen(ptmx *os.File) *screen {
	s := &screen{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			s.mu.Lock()
			s.b.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wait waits until the screen shows want.
func (s *screen) wait(t *testing.T, want string) {
	t.Helper()
	waitFor(t, "\""+want+"\" on the screen", func() bool { return strings.Contains(s.String(), want) })
}

// waitFor polls cond, failing after a generous bound (a hang guard, not a
// timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
