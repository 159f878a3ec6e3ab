package e2e

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// terminal is a pty the test holds: berth runs with its other side as
// controlling terminal, and what berth shows lands on the screen.
type terminal struct {
	t      *testing.T
	ptmx   *os.File
	tty    *os.File
	screen *screen
	before unix.Termios // the settings before berth ran
}

// newTerminal opens a pty of rows×cols, closed after the test.
func newTerminal(t *testing.T, rows, cols uint16) *terminal {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	return &terminal{t: t, ptmx: ptmx, tty: tty, screen: readScreen(ptmx), before: termios(t, tty)}
}

// start runs u's berth with args in the terminal, as the leader of a
// session whose terminal it is (so that it gets SIGWINCH on a resize);
// the channel gets its end.
func (term *terminal) start(u *user, args ...string) (*exec.Cmd, <-chan error) {
	term.t.Helper()
	cmd := exec.Command(u.bin, append([]string{"-p", u.project}, args...)...)
	cmd.Dir, cmd.Env = u.dir, u.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term.tty, term.tty, term.tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		term.t.Fatal(err)
	}
	term.t.Cleanup(func() { cmd.Process.Kill() })
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return cmd, exited
}

// type_ types s.
func (term *terminal) type_(s string) {
	if _, err := term.ptmx.Write([]byte(s)); err != nil {
		term.t.Fatal(err)
	}
}

// ask types line until the screen shows want (what the line prints once
// the other side reads it).
func (term *terminal) ask(line, want string) {
	term.t.Helper()
	waitFor(term.t, "\""+want+"\" on the screen", func() bool {
		term.type_(line)
		time.Sleep(100 * time.Millisecond)
		return strings.Contains(term.screen.String(), want)
	})
}

// resize changes the terminal's size.
func (term *terminal) resize(rows, cols uint16) {
	if err := pty.Setsize(term.ptmx, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		term.t.Fatal(err)
	}
}

// restored fails the test unless the terminal's settings are as before.
func (term *terminal) restored() {
	term.t.Helper()
	if after := termios(term.t, term.tty); after != term.before {
		term.t.Errorf("the terminal's settings changed:\nbefore %+v\nafter  %+v", term.before, after)
	}
}

// ended waits for exited and returns the exit status it brings.
func ended(t *testing.T, exited <-chan error) int {
	t.Helper()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return exitCode(err)
	case <-time.After(30 * time.Second):
		t.Fatal("berth did not end")
	}
	return -1
}
