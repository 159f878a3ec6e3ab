package runtime

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// execFiles runs o in container id with pipes as its stdio files, through
// rt, and returns the exit code, stdout and stderr.
func execFiles(t *testing.T, rt *Runtime, id string, o ExecOptions, stdin string) (int, string, string, error) {
	t.Helper()
	inR, inW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	o.Stdin, o.Stdout, o.Stderr = inR, outW, errW
	go func() { io.WriteString(inW, stdin); inW.Close() }()
	read := func(f *os.File) <-chan string {
		ch := make(chan string, 1)
		go func() { b, _ := io.ReadAll(f); ch <- string(b) }()
		return ch
	}
	out, errOut := read(outR), read(errR)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := rt.Exec(ctx, id, o)
	inR.Close()
	outW.Close()
	errW.Close()
	return code, <-out, <-errOut, err
}

// Exec through the helper process of a runtime binary (here the test
// binary itself, as its shim command), with the caller's files.
func TestExecThroughHelper(t *testing.T) {
	e := newTestEnv(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rt := New(e.root, e.run, WithCgroupParent(e.parent), WithShimCommand(self, "shim"))
	if !rt.helperFits(ExecOptions{Stdout: os.Stdout}) || rt.helperFits(ExecOptions{Stdout: io.Discard}) || e.rt.helperFits(ExecOptions{}) {
		t.Fatal("helperFits: want the helper for files with a runtime binary only")
	}
	c := e.config("exec sleep 1000")
	e.start(t, c)
	e.waitFor(t, c.ID, "running", func(s State) bool { return s.Pid > 0 })

	code, out, errOut, err := execFiles(t, rt, c.ID, ExecOptions{Args: []string{"sh", "-c", "cat; echo to-err >&2; exit 42"}}, "hi\n")
	if err != nil || code != 42 || out != "hi\n" || errOut != "to-err\n" {
		t.Errorf("got %d, %v, stdout %q, stderr %q", code, err, out, errOut)
	}

	sigs := make(chan os.Signal, 1)
	go func() { time.Sleep(300 * time.Millisecond); sigs <- syscall.SIGUSR1 }()
	code, _, _, err = execFiles(t, rt, c.ID, ExecOptions{Args: []string{"sh", "-c", "trap 'exit 3' USR1; while :; do sleep 0.05; done"}, Signals: sigs}, "")
	if err != nil || code != 3 {
		t.Errorf("a forwarded signal: %d, %v", code, err)
	}

	resize := make(chan WinSize, 1)
	resize <- WinSize{Rows: 33, Cols: 99}
	code, out, _, err = execFiles(t, rt, c.ID, ExecOptions{Args: []string{"sh", "-c", "sleep 0.3; tty; stty size"}, Tty: true,
		Size: WinSize{Rows: 10, Cols: 20}, Resize: resize}, "")
	if err != nil || code != 0 || !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "33 99") {
		t.Errorf("terminal: %d, %v, %q", code, err, out)
	}

	if err := e.rt.Stop(context.Background(), c.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := execFiles(t, rt, c.ID, ExecOptions{Args: []string{"true"}}, ""); !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), c.ID) {
		t.Errorf("exec in a stopped container: %v", err)
	}
}
