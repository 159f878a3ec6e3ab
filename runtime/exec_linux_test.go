package runtime

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer"
)

// lockedBuffer is a bytes.Buffer safe for the exec's copying goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// execIn runs o in container id and returns its exit code, stdout and stderr.
func execIn(t *testing.T, rt *Runtime, id string, o ExecOptions) (int, string, string) {
	t.Helper()
	var stdout, stderr lockedBuffer
	o.Stdout, o.Stderr = &stdout, &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := rt.Exec(ctx, id, o)
	if err != nil {
		t.Fatalf("Exec %v: %v", o.Args, err)
	}
	return code, stdout.String(), stderr.String()
}

func TestExec(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("exec sleep 1000")
	c.Env = append(c.Env, "FROM_SERVICE=svc", "KEEP=1")
	c.Cwd = "/etc"
	c.Hostname = "exechost"
	e.start(t, c)
	e.waitFor(t, c.ID, "running", func(s State) bool { return s.Pid > 0 })

	t.Run("exit codes", func(t *testing.T) {
		for script, want := range map[string]int{"true": 0, "false": 1, "exit 42": 42, "kill -9 $$": 128 + 9, "kill -TERM $$": 128 + 15} {
			if code, _, _ := execIn(t, e.rt, c.ID, ExecOptions{Args: []string{"sh", "-c", script}}); code != want {
				t.Errorf("%q exited %d, want %d", script, code, want)
			}
		}
	})
	t.Run("stdin, stdout and stderr apart", func(t *testing.T) {
		code, out, errOut := execIn(t, e.rt, c.ID, ExecOptions{Args: []string{"sh", "-c", "cat; echo to-err >&2"}, Stdin: strings.NewReader("hi\n")})
		if code != 0 || out != "hi\n" || errOut != "to-err\n" {
			t.Errorf("got %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("the container's environment, directory and user, and overrides", func(t *testing.T) {
		_, out, _ := execIn(t, e.rt, c.ID, ExecOptions{Args: []string{"sh", "-c", "echo $FROM_SERVICE $KEEP $HOSTNAME $HOME; pwd; id -u"}})
		if out != "svc 1 exechost /root\n/etc\n0\n" {
			t.Errorf("defaults: %q", out)
		}
		_, out, _ = execIn(t, e.rt, c.ID, ExecOptions{Args: []string{"sh", "-c", "echo $FROM_SERVICE ${KEEP-unset} $NEW $HOME; pwd; id -u; id -g"},
			Env: []string{"FROM_SERVICE=over", "KEEP", "NEW=n"}, User: "nobody", WorkingDir: "/tmp"})
		if out != "over unset n /home\n/tmp\n65534\n65534\n" {
			t.Errorf("overrides: %q", out)
		}
	})
	t.Run("privileged", func(t *testing.T) {
		capEff := func(o ExecOptions) uint64 {
			o.Args = []string{"sh", "-c", "grep CapEff /proc/self/status"}
			_, out, _ := execIn(t, e.rt, c.ID, o)
			v, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(out, "CapEff:")), 16, 64)
			if err != nil {
				t.Fatalf("CapEff %q: %v", out, err)
			}
			return v
		}
		const sysAdmin = 1 << 21
		plain, priv := capEff(ExecOptions{}), capEff(ExecOptions{Privileged: true})
		if plain&sysAdmin != 0 || priv&sysAdmin == 0 || priv&plain != plain {
			t.Errorf("capabilities plain %x, privileged %x", plain, priv)
		}
	})
	t.Run("terminal", func(t *testing.T) {
		inR, inW := io.Pipe()
		resize := make(chan WinSize, 1)
		var out lockedBuffer
		done := make(chan int)
		go func() {
			code, err := e.rt.Exec(context.Background(), c.ID, ExecOptions{Args: []string{"sh"}, Tty: true, Stdin: inR, Stdout: &out,
				Size: WinSize{Rows: 24, Cols: 80}, Resize: resize})
			if err != nil {
				t.Error(err)
			}
			done <- code
		}()
		io.WriteString(inW, "tty; stty size\n")
		waitOutput(t, &out, "24 80")
		resize <- WinSize{Rows: 50, Cols: 132}
		time.Sleep(100 * time.Millisecond) // the resize is asynchronous
		io.WriteString(inW, "stty size; exit 7\n")
		if code := <-done; code != 7 {
			t.Errorf("exit code %d, want 7", code)
		}
		if s := out.String(); !strings.Contains(s, "/dev/pts/") || !strings.Contains(s, "50 132") {
			t.Errorf("terminal output %q", s)
		}
	})
	t.Run("signals are forwarded and a cancelled context kills", func(t *testing.T) {
		for script, want := range map[string]int{
			"trap 'exit 3' USR1; echo ready; while :; do sleep 0.05; done": 3,
			"echo ready; exec sleep 100":                                   128 + int(syscall.SIGTERM),
		} {
			sig := syscall.SIGUSR1
			if want != 3 {
				sig = syscall.SIGTERM
			}
			sigs := make(chan os.Signal, 1)
			var out lockedBuffer
			go func() { waitOutput(t, &out, "ready"); sigs <- sig }()
			code, err := e.rt.Exec(context.Background(), c.ID, ExecOptions{Args: []string{"sh", "-c", script}, Stdout: &out, Signals: sigs})
			if err != nil || code != want {
				t.Errorf("%s forwarded to %q: exit code %d, %v; want %d", sig, script, code, err, want)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		code, err := e.rt.Exec(ctx, c.ID, ExecOptions{Args: []string{"sleep", "100"}})
		if err != nil || code != 128+9 {
			t.Errorf("cancelled: %d, %v", code, err)
		}
	})
	t.Run("detached", func(t *testing.T) {
		code, _, _ := execIn(t, e.rt, c.ID, ExecOptions{Args: []string{"sh", "-c", "sleep 0.2; touch /tmp/detached"}, Detach: true})
		if code != 0 {
			t.Fatalf("detached exec: %d", code)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if code, _, _ := execIn(t, e.rt, c.ID, ExecOptions{Args: []string{"test", "-f", "/tmp/detached"}}); code == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the detached process never ran")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, err := e.rt.Exec(context.Background(), c.ID, ExecOptions{Args: []string{"true"}, User: "nosuchuser"}); err == nil || !strings.Contains(err.Error(), "nosuchuser") {
			t.Errorf("unknown user: %v", err)
		}
		if _, err := e.rt.Exec(context.Background(), c.ID, ExecOptions{Args: []string{"/nonexistent"}}); err == nil {
			t.Error("a missing program ran")
		}
		frozen, err := libcontainer.Load(e.rt.paths(c.ID).stateRoot, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := frozen.Pause(); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.Exec(context.Background(), c.ID, ExecOptions{Args: []string{"true"}}); !errors.Is(err, ErrPaused) {
			t.Errorf("exec in a paused container: %v", err)
		}
		if err := frozen.Resume(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.rt.Stop(ctx, c.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.Exec(context.Background(), c.ID, ExecOptions{Args: []string{"true"}}); !errors.Is(err, ErrNotRunning) {
			t.Errorf("exec in a stopped container: %v", err)
		}
	})
}

// waitOutput waits until b holds want, failing after a generous bound.
func waitOutput(t *testing.T, b *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", want, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
