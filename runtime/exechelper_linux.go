package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
)

// An exec helper is the runtime binary run as "berth-runtime execproc":
// it runs one exec in this process's stead, on the caller's own stdio
// files. Its other files: the request (fd 3, JSON, then EOF), control
// lines from the caller (fd 4: "resize ROWS COLS", "signal N"), and the
// result (fd 5, JSON).

// execRequest is what the caller sends the helper.
type execRequest struct {
	ID, Root, RunRoot, CgroupParent string
	Args, Env                       []string
	User, WorkingDir                string
	Privileged, Tty, Detach         bool
	Size                            WinSize
	Stdin, Stdout, Stderr           bool // which streams the helper's stdio carry
}

// execResult is the helper's answer.
type execResult struct {
	Code     int    `json:"code"`
	Error    string `json:"error,omitempty"`
	Sentinel string `json:"sentinel,omitempty"` // the runtime error the failure wraps, by name
}

// sentinels are the runtime errors that cross the helper's pipe.
var sentinels = map[string]error{"paused": ErrPaused, "not-running": ErrNotRunning, "not-found": ErrNotFound, "invalid": ErrInvalidConfig}

// helperFits reports whether Exec can hand o to a helper: the runtime has
// a binary of its own, and every stream is a file or absent.
func (r *Runtime) helperFits(o ExecOptions) bool {
	if r.shimCmd[0] == "/proc/self/exe" {
		return false
	}
	for _, s := range []any{o.Stdin, o.Stdout, o.Stderr} {
		if f, ok := s.(*os.File); s != nil && (!ok || f == nil) {
			return false
		}
	}
	return true
}

// execVia runs the exec in a helper process and passes resizes, signals
// and ctx's end on to it.
func (r *Runtime) execVia(ctx context.Context, id string, o ExecOptions) (int, error) {
	stdin, _ := o.Stdin.(*os.File)
	stdout, _ := o.Stdout.(*os.File)
	stderr, _ := o.Stderr.(*os.File)
	req := execRequest{ID: id, Root: r.root, RunRoot: r.runRoot, CgroupParent: r.cgroupParent,
		Args: o.Args, Env: o.Env, User: o.User, WorkingDir: o.WorkingDir, Privileged: o.Privileged, Tty: o.Tty, Detach: o.Detach,
		Size: o.Size, Stdin: stdin != nil, Stdout: stdout != nil, Stderr: stderr != nil}
	var pipes [3][2]*os.File // request, control, result: [read, write]
	for i := range pipes {
		rd, wr, err := os.Pipe()
		if err != nil {
			return 0, fmt.Errorf("exec in %q: %w", id, err)
		}
		defer rd.Close()
		defer wr.Close()
		pipes[i] = [2]*os.File{rd, wr}
	}
	cmd := &exec.Cmd{
		Path: r.shimCmd[0], Args: []string{"berth", "execproc"}, Dir: "/",
		ExtraFiles: []*os.File{pipes[0][0], pipes[1][0], pipes[2][1]},
	}
	// Absent streams stay nil: the helper gets /dev/null.
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if stderr != nil {
		cmd.Stderr = stderr
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("exec in %q: starting the helper: %w", id, err)
	}
	for _, f := range []*os.File{pipes[0][0], pipes[1][0], pipes[2][1]} {
		f.Close()
	}
	err := json.NewEncoder(pipes[0][1]).Encode(req)
	pipes[0][1].Close()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, fmt.Errorf("exec in %q: sending the request: %w", id, err)
	}
	stop := steer(ctx, pipes[1][1], o)
	data, _ := io.ReadAll(pipes[2][0])
	stop()
	waitErr := cmd.Wait()
	var res execResult
	if err := json.Unmarshal(data, &res); err != nil {
		return 0, fmt.Errorf("exec in %q: the helper ended without an answer (%v)", id, waitErr)
	}
	if res.Error != "" {
		return 0, &helperError{msg: res.Error, sentinel: sentinels[res.Sentinel]}
	}
	return res.Code, nil
}

// helperError is an error the helper met, with the runtime error it
// wrapped there.
type helperError struct {
	msg      string
	sentinel error
}

func (e *helperError) Error() string { return e.msg }
func (e *helperError) Unwrap() error { return e.sentinel }

// steer writes o's resizes and signals, and a SIGKILL when ctx ends, as
// control lines to the helper, until the returned stop is called.
func steer(ctx context.Context, ctl *os.File, o ExecOptions) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			var line string
			select {
			case <-done:
				return
			case <-ctx.Done():
				line = fmt.Sprintf("signal %d\n", syscall.SIGKILL)
				ctx = context.Background() // once
			case sz := <-o.Resize:
				line = fmt.Sprintf("resize %d %d\n", sz.Rows, sz.Cols)
			case s := <-o.Signals:
				if n, ok := s.(syscall.Signal); ok {
					line = fmt.Sprintf("signal %d\n", n)
				}
			}
			_, _ = io.WriteString(ctl, line) // the helper may be gone: nothing left to steer
		}
	}()
	return func() { close(done); wg.Wait() }
}

// runExecHelper is the helper's side: it runs the request on its own
// stdio and writes the result.
func runExecHelper() int {
	// Interrupts typed at the terminal reach this process too; the caller
	// passes on the ones meant for the process. Caught, not ignored: an
	// ignored signal would stay ignored in the process.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for range sigs {
		}
	}()
	reqf, ctl, resf := os.NewFile(3, "request"), os.NewFile(4, "control"), os.NewFile(5, "result")
	var req execRequest
	res := execResult{}
	if err := json.NewDecoder(reqf).Decode(&req); err != nil {
		res.Error = fmt.Sprintf("exec helper: reading the request: %v", err)
	} else {
		res.Code, res.Error, res.Sentinel = helperExec(req, ctl)
	}
	if err := json.NewEncoder(resf).Encode(res); err != nil {
		return 1
	}
	return 0
}

// helperExec runs req, taking resizes and signals from ctl's lines.
func helperExec(req execRequest, ctl io.Reader) (code int, msg, sentinel string) {
	resize, fwd := make(chan WinSize, 1), make(chan os.Signal, 1)
	go func() {
		sc := bufio.NewScanner(ctl)
		for sc.Scan() {
			var a, b int
			if n, _ := fmt.Sscanf(sc.Text(), "resize %d %d", &a, &b); n == 2 {
				resize <- WinSize{Rows: uint16(a), Cols: uint16(b)}
			} else if n, _ := fmt.Sscanf(sc.Text(), "signal %d", &a); n == 1 {
				fwd <- syscall.Signal(a)
			}
		}
	}()
	o := ExecOptions{Args: req.Args, Env: req.Env, User: req.User, WorkingDir: req.WorkingDir, Privileged: req.Privileged,
		Tty: req.Tty, Detach: req.Detach, Size: req.Size, Resize: resize, Signals: fwd}
	if req.Stdin {
		o.Stdin = os.Stdin
	}
	if req.Stdout {
		o.Stdout = os.Stdout
	}
	if req.Stderr {
		o.Stderr = os.Stderr
	}
	r := New(req.Root, req.RunRoot, WithCgroupParent(req.CgroupParent))
	code, err := r.execHere(context.Background(), req.ID, o)
	if err == nil {
		return code, "", ""
	}
	for name, s := range sentinels {
		if errors.Is(err, s) {
			sentinel = name
		}
	}
	return code, err.Error(), sentinel
}
