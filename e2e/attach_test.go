package e2e

import (
	"bufio"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// tty: true keeps a shell alive on its terminal and logs its prompt;
// attach reaches it through a real terminal and leaves it running on the
// detach keys; stdin_open: true without a terminal takes piped input.
func TestTTYAndAttach(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  shell:
    image: berth-e2e/busybox:1
    command: ["sh"]
    tty: true
    stdin_open: true
  cat:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "while read l; do echo got $$l; done"]
    stdin_open: true
`, "-t", "0")
	u.run("up", "-d")
	waitFor(t, "the shell's prompt in its log", func() bool { return strings.Contains(u.run("logs", "shell"), "# ") })
	if ps := u.run("ps", "shell"); !strings.Contains(ps, "Up") {
		t.Fatalf("tty: true did not keep sh alive:\n%s", ps)
	}
	if out := u.run("inspect", "-f", "{{.Config.Tty}} {{.Config.OpenStdin}}", u.project+"-shell-1"); strings.TrimSpace(out) != "true true" {
		t.Fatalf("inspect Tty OpenStdin: %q", out)
	}

	term := newTerminal(t, 30, 90)
	_, exited := term.start(u, "attach", "shell")
	term.ask("echo x$((6*7))y; stty size\r", "30 90")
	if !strings.Contains(term.screen.String(), "x42y") {
		t.Fatalf("the attached shell did not answer: %q", term.screen.String())
	}
	term.type_("\x10\x11") // ctrl-p ctrl-q
	if code := ended(t, exited); code != 0 {
		t.Fatalf("detaching: exit %d", code)
	}
	term.restored()
	if ps := u.run("ps", "shell"); !strings.Contains(ps, "Up") {
		t.Fatalf("the shell did not survive the detach:\n%s", ps)
	}

	// Without a terminal: piped input in, output out, until berth goes.
	att := exec.Command(u.bin, "-p", u.project, "attach", "cat")
	att.Dir, att.Env = u.dir, u.env
	stdin, _ := att.StdinPipe()
	stdout, _ := att.StdoutPipe()
	if err := att.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { att.Process.Kill(); att.Wait() })
	io.WriteString(stdin, "one\ntwo\n")
	r := bufio.NewReader(stdout)
	for _, want := range []string{"got one\n", "got two\n"} {
		line, err := r.ReadString('\n')
		if err != nil || line != want {
			t.Fatalf("attach output %q %v, want %q", line, err, want)
		}
	}
	if _, err := u.try("attach", "nosuch"); err == nil {
		t.Fatal("attach to an unknown service succeeded")
	}
	var ee *exec.ExitError
	if _, err := u.try("attach", "--detach-keys", "ctrl-1", "cat"); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("bad --detach-keys: %v", err)
	}
}
