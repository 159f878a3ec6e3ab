package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/lifecycle"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// readyMsg is what the shim writes on its ready pipe (fd 3) once: the
// container is running, or why it could not start.
type readyMsg struct {
	Pid   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
}

// shimArgs are the shim's command-line arguments after "shim".
type shimArgs struct {
	ID, Root, RunRoot, CgroupParent string
	// Hold makes the shim hold the container created, its process not
	// run until a "start" request (see hold).
	Hold bool
}

// holdArg is the fifth argument of a shim that holds its container.
const holdArg = "hold"

func (a shimArgs) argv() []string {
	argv := []string{a.ID, a.Root, a.RunRoot, a.CgroupParent}
	if a.Hold {
		argv = append(argv, holdArg)
	}
	return argv
}

func parseShimArgs(args []string) (shimArgs, error) {
	if len(args) != 4 && (len(args) != 5 || args[4] != holdArg) {
		return shimArgs{}, fmt.Errorf("shim: want 4 arguments (id root run-root cgroup-parent) and optionally %q, got %q", holdArg, args)
	}
	return shimArgs{ID: args[0], Root: args[1], RunRoot: args[2], CgroupParent: args[3], Hold: len(args) == 5}, nil
}

// shim supervises one container: it is the parent of its init, keeps its
// log, records its exits, restarts it by policy and answers on a socket.
type shim struct {
	p      paths
	cfg    Config
	spec   *specs.Spec // nil in a re-executed shim until needed: see theSpec
	specMu sync.Mutex
	specJS []byte // the spec handed over, decoded on first use
	policy RestartPolicy
	// restartTimes is when each restart the window counts was decided
	// (RestartPolicy.Remember); supervise alone uses it.
	restartTimes []time.Time
	hook         func(root, id string, code int, at time.Time)
	events       EventHook  // records the container's events; nil: none
	evMu         sync.Mutex // one event at a time, in order
	root         string
	log          *logWriter
	ln           net.Listener
	conns        sync.WaitGroup // requests being answered

	ctrMu sync.Mutex              // guards ctr; taken after mu
	ctr   *libcontainer.Container // nil in a re-executed shim until needed: see container

	mu      sync.Mutex
	proc    initProc
	lean    map[string]string // the run's cgroup paths for a lean destroy (leanOf), nil: none
	copiers sync.WaitGroup
	state   State
	stopped bool          // an explicit stop or kill: never restart
	stopCh  chan struct{} // closed by the first stop or kill
	health  *healthRun    // the current run's health checks, nil without any
	done    chan struct{} // closed when the container exited for good
	io      *shimIO       // the current run's streams
	hub     hub           // the current run's output, to attached clients

	unmountOnce sync.Once
	unmounted   chan struct{} // closed once the rootfs is unmounted (see unmountRootfs)
	discard     atomic.Bool   // a stop for a removal: no unmount (see unmountRootfs)
	dropped     atomic.Bool   // a drop: its events and exit are the caller's to record (see drop)

	idle shimIdle // going idle: see shimidle_linux.go
}

// heldLock keeps the shim's directory lock open (and safe from the file
// finalizer) until the process exits.
var heldLock *os.File

// runShim is the shim process: it never returns normally to a caller that
// expects anything but an exit status.
func runShim(args []string, o shimOptions) int {
	ready := os.NewFile(3, "ready")
	report := func(m readyMsg) {
		if ready != nil {
			_ = json.NewEncoder(ready).Encode(m)
			ready.Close()
			ready = nil
		}
	}
	growStack(len(args))
	takeHostMountNS()
	a, err := parseShimArgs(args)
	if err != nil {
		report(readyMsg{Error: err.Error()})
		return 2
	}
	s := &shim{p: containerPaths(a.Root, a.RunRoot, a.ID), hook: o.exitHook, events: o.eventHook, root: a.Root,
		stopCh: make(chan struct{}), done: make(chan struct{})}
	lock, err := lockDir(s.p.dir)
	if err != nil {
		report(readyMsg{Error: err.Error()})
		return 1
	}
	// Never closed: the kernel drops the lock when the process is gone,
	// so whoever waits for the lock waits for the shim's exit.
	heldLock = lock
	if err := s.setup(a.CgroupParent); err != nil {
		s.teardown()
		report(readyMsg{Error: err.Error()})
		return 1
	}
	l, err := s.launch(a.Hold)
	if err != nil {
		s.teardown()
		report(readyMsg{Error: err.Error()})
		return 1
	}
	pid, _ := l.proc.Pid()
	if a.Hold {
		report(readyMsg{Pid: pid}) // created: its init waits for the start
		if code, started := s.held(&l); !started {
			s.teardown()
			return code
		}
	} else {
		s.event("start", nil) // before the ready: whoever started it sees it recorded
		report(readyMsg{Pid: pid})
	}
	if s.idlesInPlace(l) {
		// This image supervises until it goes idle, which leaves the
		// start's memory behind as a fresh image would: no re-exec.
		s.adopt(l)
		s.serveOrIdle()
		s.supervise(0)
		s.teardown()
		return 0
	}
	// Supervision goes on in a fresh image of this binary, without the
	// memory the start used (see reexecShim); this one goes on only when
	// that fails.
	if err := s.reexec(l); err != nil {
		fmt.Fprintf(os.Stderr, "shim %s: %v; supervising without re-exec\n", s.cfg.ID, err)
	}
	s.adopt(l)
	go s.serve()
	s.supervise(0)
	s.teardown()
	return 0
}

// setup reads the config, mounts the rootfs, builds the spec, opens the
// log and listens on the control socket.
func (s *shim) setup(cgroupParent string) error {
	if err := s.loadConfig(); err != nil {
		return err
	}
	m, err := rootfsMount(s.cfg.Layers, s.p.upper, s.p.work, s.p.rootfs)
	if err != nil {
		return err
	}
	// The shim runs in its own mount namespace (see spawnShim): this mount
	// is invisible on the host and goes away with the shim and container.
	if err := m.mount(); err != nil {
		return err
	}
	return s.setupMounted(cgroupParent)
}

// loadConfig reads the container's configuration and its restart policy.
func (s *shim) loadConfig() error {
	if err := readJSON(s.p.config, &s.cfg); err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	var err error
	s.policy, err = s.cfg.restartPolicy()
	return err
}

// setupMounted is setup's part once the rootfs is mounted where the
// calling thread sees it.
func (s *shim) setupMounted(cgroupParent string) error {
	id, err := resolveUserIn(s.p.rootfs, s.cfg.User)
	if err != nil {
		return err
	}
	facts, err := findHostFacts(s.p.stateRoot, s.p.shmRoot, s.p.rootfs, s.cfg.Security)
	if err != nil {
		return err
	}
	if ownsShm(s.cfg) {
		facts.ShmPath = s.p.shm // mounted on the host before the shim was spawned
	}
	spec, err := BuildSpec(s.cfg, SpecInput{Rootfs: s.p.rootfs, CgroupParent: cgroupParent, User: id, host: facts})
	if err != nil {
		return err
	}
	if err := applySeccomp(spec, s.cfg.Security); err != nil {
		return err
	}
	applyResources(spec, s.cfg.Resources)
	s.spec = spec
	if s.log, err = openLogWriter(s.p.log, s.cfg.Log.settings()); err != nil {
		return err
	}
	_ = os.Remove(s.p.sock)
	if s.ln, err = listenPrivate(s.p.sock, s.root); err != nil {
		return fmt.Errorf("listening on %s: %w", s.p.sock, err)
	}
	return nil
}

// initProc is the init of the container's current run as the shim drives
// it: libcontainer's Process in the shim that started it, the adopted
// child (adoptedInit) in the shim re-executed after that.
type initProc interface {
	// Wait waits for the init's exit and returns its status.
	Wait() (syscall.WaitStatus, error)
	Signal(os.Signal) error
	Pid() (int, error)
	// exited reports, without waiting, whether the init has exited
	// (reaped or not).
	exited() bool
}

// lcInit is the init of a run this process started: its child, as
// libcontainer returns it.
type lcInit struct{ *libcontainer.Process }

// Wait reaps the init.
func (p lcInit) Wait() (syscall.WaitStatus, error) { return waitStatusOf(p.Process.Wait()) }

func (p lcInit) exited() bool {
	pid, err := p.Pid()
	return err != nil || childExited(unix.P_PID, pid)
}

// childExited reports whether the child named by idtype and id (a pid or
// a pidfd) has exited, reaped or not, without reaping it.
func childExited(idtype, id int) bool {
	var info unix.Siginfo
	err := unix.Waitid(idtype, id, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	return err != nil || info.Signo != 0
}

// waitStatusOf is the wait status of ps, as os.Process.Wait returns it
// (its error only repeats a non-zero status when there is one).
func waitStatusOf(ps *os.ProcessState, err error) (syscall.WaitStatus, error) {
	if ps == nil {
		return 0, err
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return 0, fmt.Errorf("a wait status of type %T", ps.Sys())
	}
	return ws, nil
}

// launched is a run just started, its output not yet read.
type launched struct {
	ctr  *libcontainer.Container
	proc initProc
	sio  *shimIO
	at   time.Time // when it started
	// memDir is its memory cgroup on a cgroup v1 host, "" on v2.
	memDir string
	// lean are its cgroup paths when destroying it takes no more than
	// removing them and its state (leanOf), else nil.
	lean map[string]string
}

// start runs the container once, its output going to the log and to
// the attached clients.
func (s *shim) start() error {
	l, err := s.launchMounted()
	if err != nil {
		return err
	}
	s.adopt(l)
	return nil
}

// launch runs the container once; with hold it only makes it, its init
// waiting for the container's Exec (see runContainer).
func (s *shim) launch(hold bool) (launched, error) {
	spec, err := s.theSpec()
	if err != nil {
		return launched{}, err
	}
	sio, err := newShimIO(s.cfg)
	if err != nil {
		return launched{}, err
	}
	spec, viewDone := prepareCgroupView(spec, s.p)
	ctr, proc, err := runContainer(s.p.stateRoot, s.p.seccompCache, s.cfg.ID, spec, sio.proc, hold,
		func(cfg *configs.Config) func() { return prepareInitMounts(cfg, s.p) })
	viewDone(err != nil)
	if err == nil {
		if err = sio.started(); err != nil {
			_ = proc.Signal(syscall.SIGKILL)
			_, _ = proc.Wait()
			_ = ctr.Destroy()
		}
	}
	if err != nil {
		sio.abort()
		return launched{}, err
	}
	l := launched{ctr: ctr, proc: lcInit{proc}, sio: sio, at: time.Now()}
	if st, err := ctr.State(); err == nil {
		l.memDir, l.lean = st.CgroupPaths["memory"], leanOf(st)
	}
	return l, nil
}

// adopt supervises the run l: its output goes to the log and to the
// attached clients, its OOM kills and its health are watched.
func (s *shim) adopt(l launched) {
	ctr, proc, sio := l.ctr, l.proc, l.sio
	s.hub.begin()
	for _, o := range sio.outputs {
		gated := s.idle.on
		if gated {
			s.idle.copyBegins()
		}
		s.copiers.Go(func() {
			defer o.f.Close()
			err := s.log.copyFrom(o.stream, s.idle.reader(o), s.hub.writer(o.kind))
			if gated {
				s.idle.copyEnds() // a freeze waits for it no more
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "shim %s: %v\n", s.cfg.ID, err)
				_, _ = io.Copy(io.Discard, o.f) // never block the container on a full pipe
			}
		})
	}
	s.watchOOM(ctr, l.memDir)
	pid, _ := proc.Pid()
	s.mu.Lock()
	s.ctrMu.Lock()
	s.ctr = ctr
	s.ctrMu.Unlock()
	s.proc, s.io, s.lean = s.idle.gated(proc), sio, l.lean
	s.state.Status, s.state.Pid, s.state.StartedAt, s.state.OOMKilled = lifecycle.Running, pid, l.at, false
	s.health = nil
	if s.cfg.Health != nil {
		s.health = s.startHealth(*s.cfg.Health, true)
	}
	s.publish()
	s.mu.Unlock()
}

// wait waits for the running container to exit, for its output to be
// logged, and destroys it (its cgroups go). It returns the exit code.
func (s *shim) wait() int {
	ws, err := s.proc.Wait()
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		// Down for good (see supervise), its processes gone: the rootfs
		// goes while the container is destroyed and its exit recorded.
		s.unmountRootfs()
	}
	endWait := phase.Start(s.cfg.ID, "shim.exit.reap")
	defer func() { endWait() }()
	code := 255
	if err == nil {
		code = exitCode(ws)
	} else {
		fmt.Fprintf(os.Stderr, "shim %s: waiting for init: %v\n", s.cfg.ID, err)
	}
	s.endHealth()
	s.copiers.Wait()
	endWait()
	endWait = phase.Start(s.cfg.ID, "shim.exit.destroy")
	s.mu.Lock()
	sio := s.io
	s.io = nil
	s.mu.Unlock()
	sio.closeStdin()
	s.hub.end(code)
	oom, err := s.destroy()
	s.mu.Lock()
	s.state.OOMKilled = oom
	run := s.state.StartedAt
	s.publish()
	s.mu.Unlock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim %s: %v\n", s.cfg.ID, err)
	}
	if oom {
		// The OOM watch is armed once the run is adopted: a kill before
		// that (a process that fills its limit at once) is reported
		// here, before the die event, and only once per run.
		s.oomEventOf(run)
	}
	return code
}

// destroy destroys the exited container (its cgroups and state go) and
// says whether the OOM killer killed in it. A re-executed shim, which
// holds no libcontainer container, does it without loading one when its
// handoff says it can (destroyLean).
func (s *shim) destroy() (oom bool, err error) {
	s.mu.Lock()
	lean := s.lean
	s.mu.Unlock()
	s.ctrMu.Lock()
	held := s.ctr != nil
	s.ctrMu.Unlock()
	if !held && lean != nil {
		return destroyLean(s.p.stateRoot, s.cfg.ID, lean)
	}
	ctr, err := s.container()
	if err != nil {
		return false, err
	}
	return oomKilled(ctr), ctr.Destroy()
}

// supervise waits for exits, records them and restarts by policy, until
// the container is down for good; backoff is the delay of the last restart.
func (s *shim) supervise(backoff time.Duration) {
	defer close(s.done)
	var startErr error
	for {
		code := 128
		if startErr == nil {
			code = s.wait()
		}
		s.mu.Lock()
		// One step from running to restarting (or exited): no one sees it
		// exited in between when a restart follows.
		now := time.Now()
		restart := s.policy.ShouldRestart(code, s.policy.Attempts(s.state.Restarts, s.restartTimes, now), s.stopped)
		if restart {
			s.restartTimes = s.policy.Remember(s.restartTimes, now)
		}
		status := lifecycle.Exited
		if restart {
			status = lifecycle.Restarting
		}
		s.state.Status, s.state.Pid, s.state.ExitCode, s.state.FinishedAt = status, 0, code, now
		s.state.Stopped = s.stopped
		s.publish()
		st, stopped := s.state, s.stopped
		s.mu.Unlock()
		if !restart {
			s.unmountRootfs() // while the exit is recorded
		}
		rec := exitRecord{Code: code, StartedAt: st.StartedAt, FinishedAt: st.FinishedAt, Restarts: st.Restarts, OOMKilled: st.OOMKilled, Stopped: stopped}
		if startErr != nil {
			rec.Error = startErr.Error()
		}
		if stopped && s.dropped.Load() {
			return // the caller records it (see drop), then removes the container
		}
		end := phase.Start(s.cfg.ID, "shim.exit.file")
		if err := writeJSONAtomic(s.p.exit, rec); err != nil {
			fmt.Fprintf(os.Stderr, "shim %s: %v\n", s.cfg.ID, err)
		}
		end()
		end = phase.Start(s.cfg.ID, "shim.exit.hook")
		if s.hook != nil {
			s.hook(s.root, s.cfg.ID, code, st.FinishedAt)
		}
		end()
		end = phase.Start(s.cfg.ID, "shim.exit.die-event")
		if startErr == nil {
			s.event("die", dieAttributes(code, st))
		}
		end()
		if !restart {
			return
		}
		backoff = s.policy.Wait(backoff, st.FinishedAt.Sub(st.StartedAt))
		select {
		case <-s.stopCh: // stopped while waiting: down for good
			s.mu.Lock()
			s.state.Status = lifecycle.Exited
			s.publish()
			s.mu.Unlock()
			return
		case <-time.After(backoff):
		}
		s.mu.Lock()
		s.state.Restarts++
		s.state.StartedAt = time.Now()
		s.publish()
		s.mu.Unlock()
		_ = rotateShimLog(s.p.shimLog, maxShimLog) // a restart loop must not fill the disk
		if startErr = s.start(); startErr != nil {
			fmt.Fprintf(os.Stderr, "shim %s: restart: %v\n", s.cfg.ID, startErr)
		} else {
			s.event("start", nil)
			debug.FreeOSMemory() // what the start used goes back to the host
		}
	}
}

// teardown releases what setup made, after answering the requests in
// flight; the lock goes with the process.
func (s *shim) teardown() {
	defer phase.Start(s.cfg.ID, "shim.teardown")()
	if s.ln != nil {
		s.ln.Close()
		_ = os.Remove(s.p.sock)
		end := phase.Start(s.cfg.ID, "shim.teardown.conns")
		waitTimeout(&s.conns, time.Second)
		end()
	}
	if s.log != nil {
		s.log.Close()
	}
	end := phase.Start(s.cfg.ID, "shim.teardown.unmount")
	s.unmountRootfs()
	<-s.unmounted
	end()
}

// unmountRootfs starts unmounting the container's root filesystem, once
// its last run is over: the unmount waits for the filesystem under the
// overlay to be synced, which takes milliseconds, and goes on meanwhile.
// s.unmounted is closed when it is done. A container stopped to be
// removed (discard) is not unmounted: the overlay lives in the shim's
// private mount namespace only, which the kernel tears down when the shim
// exits, after the shim's files (its lock) are closed, so whoever waits
// for the shim does not wait for that sync, and nothing reuses its upper
// directory.
func (s *shim) unmountRootfs() {
	s.unmountOnce.Do(func() {
		s.unmounted = make(chan struct{})
		if s.discard.Load() {
			close(s.unmounted)
			return
		}
		go func() {
			defer close(s.unmounted)
			defer phase.Start(s.cfg.ID, "shim.unmount")()
			if err := unmountAll(s.p.rootfs); err != nil {
				fmt.Fprintf(os.Stderr, "shim %s: %v\n", s.cfg.ID, err)
			}
		}()
	})
}

// serve answers control requests until the listener closes.
func (s *shim) serve() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Go(func() { s.handle(conn) })
	}
}

func (s *shim) handle(conn net.Conn) {
	defer conn.Close()
	var req shimRequest
	dec := json.NewDecoder(conn)
	if err := dec.Decode(&req); err != nil {
		return
	}
	if req.Op == "attach" {
		// Frames follow the request, after the encoder's newline.
		rest, _ := io.ReadAll(dec.Buffered())
		s.attach(conn, io.MultiReader(bytes.NewReader(bytes.TrimLeft(rest, " \t\r\n")), conn), req)
		return
	}
	var resp shimResponse
	switch req.Op {
	case "state":
	case "stop":
		if req.Discard {
			s.discard.Store(true) // before the signal: the exit finds it
		}
		s.stop(syscall.Signal(req.Signal), time.Duration(req.TimeoutMS)*time.Millisecond)
	case "drop":
		s.discard.Store(true)
		resp.Dropped = s.drop()
	case "kill":
		resp.fail(s.kill(syscall.Signal(req.Signal)))
	case "pause":
		resp.fail(s.eventIf(s.pause(), "pause"))
	case "resume":
		resp.fail(s.eventIf(s.resume(), "unpause"))
	case "update":
		resp.fail(s.update(req.Resources))
	case "start": // its state says why: not held (see hold), it was started before
		resp.Error = "the container was started already"
	case "release": // only a held container is released
	default:
		resp.Error = fmt.Sprintf("unknown operation %q", req.Op)
	}
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	st.Shim = true
	resp.State = &st
	_ = json.NewEncoder(conn).Encode(resp)
}

// markStopped records an explicit stop: no restart from now on. running
// says whether the init is alive (it may be paused).
func (s *shim) markStopped() (proc initProc, running bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		close(s.stopCh)
	}
	return s.proc, s.state.Status == lifecycle.Running || s.state.Status == lifecycle.Paused
}

// stop sends sig (0 = the configured stop signal) and SIGKILL after
// timeout (negative = the configured timeout), and returns once the
// container is down for good.
func (s *shim) stop(sig syscall.Signal, timeout time.Duration) {
	if sig == 0 {
		sig, _ = ParseSignal(s.cfg.stopSignal())
	}
	if timeout < 0 {
		timeout = s.cfg.stopTimeout()
	}
	proc, running := s.markStopped()
	if running {
		defer func() {
			defer phase.Start(s.cfg.ID, "shim.stop.stop-event")()
			s.event("stop", nil) // once down, as Docker's
		}()
		s.endHealth() // no probe may be joining the container while it goes
		defer phase.Start(s.cfg.ID, "shim.stop.signalled")()
		s.signal(proc, sig)
		s.thaw() // a paused container gets the signal once thawed, as with Docker
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-s.done:
			return
		case <-t.C:
			s.signal(proc, syscall.SIGKILL)
		}
	}
	<-s.done
}

// drop stops the container as a stop with no grace does, for its
// removal, and leaves what a stop records (its kill, die and stop events
// and its exit) to the caller, which records the events in one go (see
// Runtime.Drop): the answer says what to record, nil when the container
// was not running (its exit is recorded already).
func (s *shim) drop() *dropAnswer {
	s.mu.Lock()
	running := s.state.Status == lifecycle.Running || s.state.Status == lifecycle.Paused
	if running {
		// Under s.mu, while the status is running: supervise reads it
		// after the exit, under s.mu too, before it records anything.
		s.dropped.Store(true)
	}
	s.mu.Unlock()
	sig, err := ParseSignal(s.cfg.stopSignal())
	if err != nil {
		sig = syscall.SIGTERM
	}
	s.stop(sig, 0)
	if !running {
		return nil
	}
	s.mu.Lock()
	code := s.state.ExitCode
	s.mu.Unlock()
	return &dropAnswer{Signal: int(sig), ExitCode: code}
}

// signal sends sig to the init of a stop and records its "kill" event
// while the signal takes effect: the event lock, held meanwhile, keeps it
// before the "die" the signal causes.
func (s *shim) signal(proc initProc, sig syscall.Signal) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	_ = proc.Signal(sig)
	if s.events != nil && !s.dropped.Load() {
		s.events(s.root, s.cfg.ID, "kill", killAttributes(sig), time.Now())
	}
}

// kill sends sig to the init. As with Docker, SIGKILL, the stop signal,
// or any signal when the container names no stop signal is an explicit
// stop: the restart policy no longer applies and a paused container is
// thawed to receive it. A restarting container only takes note.
func (s *shim) kill(sig syscall.Signal) error {
	stops := killStops(sig, s.cfg.StopSignal)
	s.mu.Lock()
	proc, status := s.proc, s.state.Status
	s.mu.Unlock()
	if stops {
		proc, _ = s.markStopped()
	}
	switch status {
	case lifecycle.Restarting:
		return nil
	case lifecycle.Running, lifecycle.Paused:
	default:
		return ErrNotRunning
	}
	if stops {
		s.endHealth()
	}
	s.event("kill", killAttributes(sig)) // before the die it may cause
	if err := proc.Signal(sig); err != nil {
		return fmt.Errorf("signalling init: %w", err)
	}
	if stops {
		s.thaw()
	}
	return nil
}

// fail records err, if any, as the answer's error.
func (r *shimResponse) fail(err error) {
	if err != nil {
		r.Error = err.Error()
		r.NotRunning = errors.Is(err, ErrNotRunning)
	}
}

// waitTimeout waits for wg, for at most d.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}
