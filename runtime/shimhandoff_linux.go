package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A shim starts its container with libcontainer, which leaves megabytes
// of heap, grown stacks and C allocations (libseccomp, SQLite) behind.
// Once the container runs, the shim re-executes its own binary, handing
// over what supervision needs: the container's init stays its child, the
// log pipes or terminal, the control socket's listener and the directory
// lock stay open across the exec. The fresh image keeps only what
// supervising takes (issue 15: memory per container).

// handoffEnv names the file descriptor of the handoff in the re-executed
// shim's environment.
const handoffEnv = "BERTH_SHIM_HANDOFF"

// noReexecEnv, set, keeps a shim in the image that started its container.
const noReexecEnv = "BERTH_SHIM_NO_REEXEC"

// handoff is what a shim passes to its re-executed image: the numbers of
// the descriptors it keeps open, and the run it started.
type handoff struct {
	Lock     int             `json:"lock"`
	Listener int             `json:"listener"`
	Outputs  []handoffOutput `json:"outputs"`
	Stdin    int             `json:"stdin"`  // -1: none
	Master   int             `json:"master"` // the terminal, -1: none
	Pid      int             `json:"pid"`
	// PidFD is the init's pidfd when the init is not the shim's child
	// (see adoptNonChild), 0: none (the init is the shim's child).
	PidFD     int               `json:"pidfd,omitempty"`
	MemDir    string            `json:"mem_dir,omitempty"` // the memory cgroup (v1)
	Lean      map[string]string `json:"lean,omitempty"`    // the cgroup paths a lean destroy removes (leanOf)
	StartedAt time.Time         `json:"started_at"`
	Spec      json.RawMessage   `json:"spec"`           // decoded when first needed (health checks, restarts, updates)
	Idle      *idleResume       `json:"idle,omitempty"` // from a shim gone idle: see shimidle_linux.go
}

type handoffOutput struct {
	Stream string    `json:"stream"`
	Kind   frameKind `json:"kind"`
	FD     int       `json:"fd"`
}

// shimGoEnv is the Go runtime's set-up of a shim (and so of the
// container's init, which libcontainer starts with the shim's GOMAXPROCS):
// one P, as a start is one thread of work and the starts of an `up` run
// side by side on few cores; fewer Ps, fewer threads and GC workers to
// start (about 0.8 ms of CPU less per process start).
var shimGoEnv = []string{"GOMAXPROCS=1"}

// reexecGoEnv is the Go runtime's set-up of a re-executed shim: one P (it
// copies two pipes and answers a socket). Its GOGC is the default while
// it takes over (no collection for the few megabytes that takes), then
// reexecGOGC (see resumeShim); the caller's GOGC is not passed on.
var reexecGoEnv = []string{"GOMAXPROCS=1"}

// reexecGOGC is a re-executed shim's GOGC once it supervises: a heap that
// grows by a quarter, not double, before a collection (the floor of a
// heap goal is 4 MB × GOGC/100).
const reexecGOGC = 25

// reexec executes the shim's binary afresh to supervise the run l. It
// returns only when that could not be done; the shim then goes on here.
func (s *shim) reexec(l launched) error {
	if os.Getenv(noReexecEnv) != "" {
		return errors.New("re-exec disabled by " + noReexecEnv)
	}
	spec, err := s.specJSON()
	if err != nil {
		return err
	}
	pid, _ := l.proc.Pid()
	h := handoff{Pid: pid, StartedAt: l.at, MemDir: l.memDir, Lean: l.lean, Spec: spec}
	mfd, undo, err := s.handOver(&h, l.sio, l.proc)
	defer undo() // reached only when the exec did not happen
	if err != nil {
		return fmt.Errorf("re-exec: %w", err)
	}
	err = execOutside("/proc/self/exe", os.Args, reexecEnv(os.Environ(), mfd))
	return fmt.Errorf("re-executing the shim: %w", err)
}

// handOver readies the handoff h for an exec of the shim's image or of
// berth-idle: the descriptors it names (the listener, the streams of sio,
// the lock) survive the exec, and h is written into the file mfd, which
// the exec inherits (see writeHandoff). undo, when the exec did not
// happen, closes it and lets the descriptors close on exec again.
func (s *shim) handOver(h *handoff, sio *shimIO, proc initProc) (mfd int, undo func(), err error) {
	release, err := s.keepForExec(h, s.ln, sio, proc)
	if err != nil {
		return -1, release, err
	}
	if mfd, err = writeHandoff(s.p.dir, *h); err != nil {
		return -1, release, err
	}
	if err := clearCloexec(mfd); err != nil {
		unix.Close(mfd)
		return -1, release, fmt.Errorf("keeping the handoff across the exec: %w", err)
	}
	return mfd, func() { unix.Close(mfd); release() }, nil
}

// keepForExec lets the descriptors a shim hands over (the lock, the
// listener ln, the streams of sio, the pidfd of an init proc that is not
// the shim's child) survive an exec, and records their numbers in h;
// release undoes that, when the exec did not happen.
func (s *shim) keepForExec(h *handoff, ln net.Listener, sio *shimIO, proc initProc) (release func(), err error) {
	h.Stdin, h.Master, h.Outputs = -1, -1, nil
	var kept []int
	release = func() {
		for _, fd := range kept {
			unix.CloseOnExec(fd)
		}
	}
	keep := func(c syscall.Conn) (int, error) {
		fd, err := rawFD(c)
		if err == nil {
			err = clearCloexec(fd)
		}
		if err != nil {
			return -1, fmt.Errorf("keeping a descriptor across the re-exec: %w", err)
		}
		kept = append(kept, fd)
		return fd, nil
	}
	if h.Lock, err = keep(heldLock); err != nil {
		return release, err
	}
	ul, err := unixListener(ln)
	if err != nil {
		return release, err
	}
	if h.Listener, err = keep(ul); err != nil {
		return release, err
	}
	for _, o := range sio.outputs {
		fd, err := keep(o.f)
		if err != nil {
			return release, err
		}
		h.Outputs = append(h.Outputs, handoffOutput{o.stream, o.kind, fd})
	}
	if sio.master != nil {
		if h.Master, err = keep(sio.master); err != nil {
			return release, err
		}
	}
	if sio.stdin != nil {
		if h.Stdin, err = keep(sio.stdin); err != nil {
			return release, err
		}
	}
	if f := notChildPidfd(proc); f != nil {
		if h.PidFD, err = keep(f); err != nil {
			return release, err
		}
	}
	return release, nil
}

// unixListener is the unix socket listener under the shim's listener ln.
func unixListener(ln net.Listener) (*net.UnixListener, error) {
	for {
		switch l := ln.(type) {
		case *net.UnixListener:
			return l, nil
		case *peerListener:
			ln = l.Listener
		case interface{ unwrap() net.Listener }:
			ln = l.unwrap()
		default:
			return nil, fmt.Errorf("re-exec: listener is a %T", ln)
		}
	}
}

// writeHandoff writes h into an unnamed file in dir (O_TMPFILE), close
// on exec, for the next image to inherit: on the state root's disk, its
// pages are page cache the kernel can reclaim, where a memfd's stay in
// memory for as long as the shim is idle (issue 15: memory per
// container). A filesystem without O_TMPFILE gets a memfd.
func writeHandoff(dir string, h handoff) (int, error) {
	data, err := json.Marshal(h)
	if err != nil {
		return -1, fmt.Errorf("encoding the handoff: %w", err)
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		fd, err = unix.MemfdCreate("berth-shim-handoff", unix.MFD_CLOEXEC)
	}
	if err != nil {
		return -1, fmt.Errorf("making the handoff's file: %w", err)
	}
	if _, err := unix.Write(fd, data); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("writing the handoff: %w", err)
	}
	return fd, nil
}

// reexecEnv is the environment of the re-executed shim: environ with the
// handoff's descriptor and the Go runtime's set-up in place of the
// caller's.
func reexecEnv(environ []string, handoffFD int) []string {
	env := []string{fmt.Sprintf("%s=%d", handoffEnv, handoffFD)}
	env = append(env, reexecGoEnv...)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if name != handoffEnv && name != "GOMAXPROCS" && name != "GOGC" {
			env = append(env, kv)
		}
	}
	return env
}

// resumeShim is the re-executed shim: it takes over the run its previous
// image started and supervises it to the end.
func resumeShim(args []string, o shimOptions) int {
	goruntime.MemProfileRate = 0 // no heap profile: no sampling buckets
	h, err := readHandoff(os.Getenv(handoffEnv))
	os.Unsetenv(handoffEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim: %v\n", err)
		return 1
	}
	heldLock = os.NewFile(uintptr(h.Lock), "lock")
	unix.CloseOnExec(h.Lock)
	a, err := parseShimArgs(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim: %v\n", err)
		return 2
	}
	s := &shim{p: containerPaths(a.Root, a.RunRoot, a.ID), hook: o.exitHook, events: o.eventHook, root: a.Root,
		stopCh: make(chan struct{}), done: make(chan struct{}), specJS: h.Spec}
	// On a goroutine of its own, whose stack (grown by decoding and
	// loading) goes when it ends.
	var l launched
	done := make(chan struct{})
	go func() { l, err = s.takeOver(h); close(done) }()
	<-done
	if err != nil {
		// The container runs on without a shim: the engine sees it
		// unsupervised and repairs it.
		fmt.Fprintf(os.Stderr, "shim %s: resuming after the re-exec: %v\n", a.ID, err)
		s.teardown()
		return 1
	}
	backoff := s.wake(h, &l) // after an idle spell: its state and output
	s.adopt(l)
	s.serveOrIdle()
	debug.SetGCPercent(reexecGOGC)
	debug.FreeOSMemory() // what taking over took goes back
	s.supervise(backoff)
	s.teardown()
	return 0
}

// takeOver rebuilds the shim's state from its handoff.
func (s *shim) takeOver(h handoff) (launched, error) {
	if err := readJSON(s.p.config, &s.cfg); err != nil {
		return launched{}, fmt.Errorf("reading config: %w", err)
	}
	var err error
	if s.policy, err = s.cfg.restartPolicy(); err != nil {
		return launched{}, err
	}
	lf := os.NewFile(uintptr(h.Listener), "listener")
	ln, err := net.FileListener(lf) // a duplicate
	lf.Close()
	if err != nil {
		return launched{}, fmt.Errorf("taking over the control socket: %w", err)
	}
	if s.ln, err = privateListener(ln, s.root); err != nil {
		ln.Close()
		return launched{}, err
	}
	if s.log, err = openLogWriter(s.p.log, s.cfg.Log.settings()); err != nil {
		return launched{}, err
	}
	sio := &shimIO{tty: s.cfg.Tty, open: s.cfg.OpenStdin}
	files := map[int]*os.File{}
	file := func(fd int, name string) *os.File {
		if f := files[fd]; f != nil {
			return f // the terminal: output and input
		}
		// Non-blocking, so that reads can time out and closing the
		// file ends a copy blocked reading it (as os.Pipe makes them).
		_ = unix.SetNonblock(fd, true)
		unix.CloseOnExec(fd)
		files[fd] = os.NewFile(uintptr(fd), name)
		return files[fd]
	}
	if h.Master >= 0 {
		sio.master = file(h.Master, "terminal")
	}
	for _, o := range h.Outputs {
		sio.outputs = append(sio.outputs, output{o.Stream, o.Kind, file(o.FD, o.Stream)})
	}
	if h.Stdin >= 0 {
		sio.stdin = file(h.Stdin, "stdin")
	}
	// The container's libcontainer state (its whole config, seccomp
	// rules included) is loaded only when needed: see container.
	adopt := adoptInit
	if h.PidFD > 0 {
		adopt = func(pid int) (adoptedInit, error) { return adoptNonChild(pid, h.PidFD) }
	}
	init, err := adopt(h.Pid)
	if err != nil {
		return launched{}, err
	}
	return launched{proc: init, sio: sio, at: h.StartedAt, memDir: h.MemDir, lean: h.Lean}, nil
}

// container is the container's libcontainer handle, loaded from its state
// when the shim does not hold it yet (a re-executed shim).
func (s *shim) container() (*libcontainer.Container, error) {
	s.ctrMu.Lock()
	defer s.ctrMu.Unlock()
	if s.ctr == nil {
		ctr, err := libcontainer.Load(s.p.stateRoot, s.cfg.ID)
		if err != nil {
			return nil, fmt.Errorf("loading container: %w", err)
		}
		s.ctr = ctr
	}
	return s.ctr, nil
}

// readHandoff reads the handoff from the descriptor named by fdText, and
// closes it.
func readHandoff(fdText string) (handoff, error) {
	var h handoff
	var fd int
	if _, err := fmt.Sscan(fdText, &fd); err != nil {
		return h, fmt.Errorf("bad %s %q", handoffEnv, fdText)
	}
	f := os.NewFile(uintptr(fd), "handoff")
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return h, fmt.Errorf("reading the handoff: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return h, fmt.Errorf("reading the handoff: %w", err)
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("decoding the handoff: %w", err)
	}
	return h, nil
}

// specJSON is the spec of the container's runs, encoded for a handoff.
func (s *shim) specJSON() ([]byte, error) {
	s.specMu.Lock()
	defer s.specMu.Unlock()
	if s.spec == nil {
		return s.specJS, nil
	}
	data, err := json.Marshal(s.spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the spec for the handoff: %w", err)
	}
	return data, nil
}

// theSpec is the spec of the container's runs: built by setup, or the
// one handed over, decoded on first use.
func (s *shim) theSpec() (*specs.Spec, error) {
	s.specMu.Lock()
	defer s.specMu.Unlock()
	if s.spec == nil {
		if s.specJS == nil {
			return nil, errors.New("no spec")
		}
		var spec specs.Spec
		if err := json.Unmarshal(s.specJS, &spec); err != nil {
			return nil, fmt.Errorf("decoding the spec handed over: %w", err)
		}
		s.spec, s.specJS = &spec, nil
	}
	return s.spec, nil
}

// adoptedInit is the container's init as a re-executed shim holds it,
// adopted by pid, with a pidfd that Go's poller watches, so that no
// thread waits for its exit: the shim's child, or an init another
// process started (see starter_linux.go), whose exit comes through the
// pidfd once it is reaped (see awaitExitInfo).
type adoptedInit struct {
	pid   int
	p     *os.Process // a child's, to reap it; nil for a non-child
	pidfd *os.File    // non-blocking: readable once the process has exited
}

// adoptInit adopts the child pid.
func adoptInit(pid int) (adoptedInit, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return adoptedInit{}, fmt.Errorf("adopting the container's init: %w", err)
	}
	unix.CloseOnExec(fd)
	p, err := os.FindProcess(pid)
	if err != nil {
		unix.Close(fd)
		return adoptedInit{}, fmt.Errorf("adopting the container's init: %w", err)
	}
	return adoptedInit{pid, p, os.NewFile(uintptr(fd), "init-pidfd")}, nil
}

// adoptNonChild adopts the init pid, not this process's child, through
// the pidfd fd handed over, opened while the init lived.
func adoptNonChild(pid, fd int) (adoptedInit, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return adoptedInit{}, fmt.Errorf("adopting the container's init: %w", err)
	}
	unix.CloseOnExec(fd)
	return adoptedInit{pid: pid, pidfd: os.NewFile(uintptr(fd), "init-pidfd")}, nil
}

// Wait waits, in the poller, for the init to exit, then reaps a child,
// or reads a non-child's status once its parent or reaper reaped it.
func (a adoptedInit) Wait() (syscall.WaitStatus, error) {
	defer a.pidfd.Close()
	if a.p == nil {
		return awaitExitInfo(a.pidfd)
	}
	waitExited(a.pidfd)
	return waitStatusOf(a.p.Wait())
}

func (a adoptedInit) exited() bool {
	rc, err := a.pidfd.SyscallConn()
	if err != nil {
		return true
	}
	done := true
	_ = rc.Control(func(fd uintptr) {
		if a.p == nil {
			done = pidfdExited(int(fd))
		} else {
			done = childExited(unix.P_PIDFD, int(fd))
		}
	})
	return done
}

// notChildPidfd is the pidfd of proc when it is an init this process
// did not start (never gated: see gated), nil otherwise.
func notChildPidfd(proc initProc) *os.File {
	if a, ok := proc.(adoptedInit); ok && a.p == nil {
		return a.pidfd
	}
	return nil
}

// waitExited waits, in the poller, until the child of the non-blocking
// pidfd has exited, without reaping it.
func waitExited(pidfd *os.File) {
	if rc, err := pidfd.SyscallConn(); err == nil {
		_ = rc.Read(func(fd uintptr) bool {
			var info unix.Siginfo
			err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
			return err != nil || info.Signo != 0 // exited (or no child to wait for): done
		})
	}
}

// Signal signals the init through its pidfd: never another process that
// took its pid.
func (a adoptedInit) Signal(sig os.Signal) error {
	if a.p != nil {
		return a.p.Signal(sig)
	}
	ss, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("unsupported signal %v", sig)
	}
	rc, err := a.pidfd.SyscallConn()
	if err != nil {
		return os.ErrProcessDone // its pidfd closed: waited for
	}
	if cerr := rc.Control(func(fd uintptr) { err = unix.PidfdSendSignal(int(fd), ss, nil, 0) }); cerr != nil {
		return os.ErrProcessDone
	}
	if errors.Is(err, unix.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

func (a adoptedInit) Pid() (int, error) { return a.pid, nil }

// rawFD is c's descriptor, without changing its blocking mode (as
// os.File.Fd would).
func rawFD(c syscall.Conn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// clearCloexec lets fd survive an exec.
func clearCloexec(fd int) error {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
	return err
}
