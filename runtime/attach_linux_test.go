package runtime

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to write and read concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Attached with stdin open: input reaches the process, stdout and stderr
// come apart, the end of input closes stdin (StdinOnce), the exit code
// comes back, and what the process printed before the attach is replayed.
func TestAttachPipes(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("echo early; echo warn >&2; while read l; do echo got $l; done; exit 7")
	c.OpenStdin, c.StdinOnce = true, true
	e.start(t, c)
	var out, errs syncBuffer
	code, err := e.rt.Attach(context.Background(), c.ID, AttachOptions{Stdin: strings.NewReader("a\nb\n"), Stdout: &out, Stderr: &errs, Replay: true})
	if err != nil {
		shimLog, _ := os.ReadFile(e.rt.paths(c.ID).shimLog)
		t.Fatalf("%v\nshim log:\n%s", err, shimLog)
	}
	if code != 7 || out.String() != "early\ngot a\ngot b\n" || errs.String() != "warn\n" {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out.String(), errs.String())
	}
	// A run over and its shim gone: the output comes from the log.
	e.waitExited(t, c.ID)
	out = syncBuffer{}
	if code, err := e.rt.Attach(context.Background(), c.ID, AttachOptions{Stdout: &out, Stderr: io.Discard, Replay: true}); err != nil || code != 7 ||
		out.String() != "early\ngot a\ngot b\n" {
		t.Fatalf("attach after the end: %d %v %q", code, err, out.String())
	}
	if _, err := e.rt.Attach(context.Background(), c.ID, AttachOptions{Stdout: &out}); !errors.Is(err, ErrNotAttachable) {
		t.Fatalf("attach to a stopped container without replay: %v", err)
	}
}

// With a terminal: the process sees a tty, input is echoed through it,
// a resize reaches it, its prompt is logged without waiting for a newline,
// and the detach keys leave it running.
func TestAttachTerminal(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("exec sh -i")
	c.Tty, c.OpenStdin = true, true
	c.Env = append(c.Env, "PS1=prompt> ")
	e.start(t, c)
	in, inW := io.Pipe()
	resize := make(chan WinSize, 1)
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		_, err := e.rt.Attach(context.Background(), c.ID, AttachOptions{Stdin: in, Stdout: &out, Replay: true, Resize: resize,
			DetachKeys: []byte{16, 17}})
		done <- err
	}()
	waitText(t, &out, "prompt> ")
	resize <- WinSize{Rows: 33, Cols: 101}
	// The shell may read the size only when the resize has arrived: ask until it has.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "33 101") {
		if time.Now().After(deadline) {
			t.Fatalf("stty size never showed the new size:\n%s", out.String())
		}
		io.WriteString(inW, "stty size; [ -t 0 ] && echo is-a-tty\n")
		time.Sleep(50 * time.Millisecond)
	}
	waitText(t, &out, "is-a-tty")
	if lines := e.logLines(t, c.ID, LogOptions{Tail: -1}); !strings.Contains(strings.Join(lines, "\n"), "prompt> ") {
		t.Errorf("the prompt is not logged: %q", lines)
	}
	inW.Write([]byte{16, 17}) // ctrl-p ctrl-q
	select {
	case err := <-done:
		if !errors.Is(err, ErrDetached) {
			t.Fatalf("detach keys: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the detach keys did not end the attach")
	}
	if st, _ := e.rt.State(context.Background(), c.ID); st.Status != "running" {
		t.Fatalf("after detaching: %+v", st)
	}
}

// waitText waits for want in b (a hang guard, not a timing assertion).
func waitText(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", want, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
