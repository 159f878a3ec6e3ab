package runtime

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"golang.org/x/sys/unix"
)

// A shim that supervises a running container which needs nothing of it
// (no client connected, no output for a while, no health check, no
// restart pending) goes idle (issue 15: memory per container): it execs
// berth-idle in place, a small C program (cmd/berth-idle) that keeps the
// pid, the container's init as its child and every descriptor of the
// handoff, appends the container's output to its log as this shim would
// and, on anything else (a client connecting, the init exiting, an
// output closing, the log due to rotate, an OOM kill), execs this binary
// back with the handoff and what woke it (wake). A Go program blocked in
// Accept takes 0.65 MB of PSS; berth-idle a few kilobytes.

// Environment of the idle switch.
const (
	// idleEnv is how long a shim waits, quiet, before it goes idle: a
	// duration, or "off" (the shim never goes idle).
	idleEnv = "BERTH_SHIM_IDLE"
	// idleBinEnv names the berth-idle program; by default it is beside
	// the shim's binary.
	idleBinEnv = "BERTH_IDLE"
	// wakeEnv names the descriptor of what woke the shim, in a shim
	// execed back by berth-idle.
	wakeEnv = "BERTH_IDLE_WAKE"
	// idleArgsEnv holds berth-idle's arguments, one a line.
	idleArgsEnv = "BERTH_IDLE_ARGS"
)

// idleAfterDefault is how long a shim stays quiet before it goes idle.
const idleAfterDefault = time.Second

// idleResume is the part of the shim's state an idle spell keeps in the
// handoff, for the shim execed back.
type idleResume struct {
	Restarts     int           `json:"restarts,omitempty"`
	RestartTimes []time.Time   `json:"restart_times,omitempty"`
	Backoff      time.Duration `json:"backoff,omitempty"`
	// Health is where the health checks were, nil without any.
	Health *healthProgress `json:"health,omitempty"`
	// OOMRun is the start of the run whose OOM kill was reported: one
	// "oom" event per run, idle spells or not.
	OOMRun time.Time `json:"oom_run,omitzero"`
}

// shimIdle is what going idle takes: the quiet it waits for, the
// copies of the output it freezes, the requests it waits out, the exits
// it keeps from being reaped meanwhile.
type shimIdle struct {
	on      bool
	after   time.Duration
	bin     string
	memDir  string            // the run's v1 memory cgroup, for OOM kills
	pending map[string][]byte // output berth-idle read, by stream: logged first
	backoff time.Duration     // the last restart's delay, when woken
	health  *healthProgress   // where the health checks were, when woken (see startHealth)
	conns   []net.Conn        // accepted while idle, to answer
	oomRun  time.Time         // the start of the run whose OOM kill was reported
	// freshBy is, in the image that started the container and supervises
	// it itself (idlesInPlace), when it hands over to a fresh image of
	// the shim if it has not gone idle by then; zero: never.
	freshBy time.Time

	mu      sync.Mutex
	cond    sync.Cond
	last    time.Time // the last output or request
	frozen  bool      // no output is read
	gen     uint64    // freezes so far
	reading int       // reads of output in flight
	copying int       // copies of output of the current run (see adopt)
	parked  int       // copies waiting at the frozen gate, all they read logged
	dirty   bool      // output came while freezing

	active  atomic.Int32  // requests being answered
	paused  chan struct{} // serving paused (see serveOrIdle)
	resumed chan struct{} // closed to serve again
	pauseMu sync.Mutex
}

// reaping is held (read) by whoever reaps the container's init, and
// (write) by a shim going idle: an exit reaped before the exec would be
// lost, and one after it is berth-idle's to see.
var reaping sync.RWMutex

// setupIdle decides whether this shim goes idle and how.
func (s *shim) setupIdle() {
	g := &s.idle
	g.cond.L = &g.mu
	g.last = time.Now()
	v := os.Getenv(idleEnv)
	if v == "off" {
		return
	}
	g.after = idleAfterDefault
	if v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "shim %s: bad %s %q: not going idle\n", s.cfg.ID, idleEnv, v)
			return
		}
		g.after = d
	}
	if g.bin = idleBinary(); g.bin == "" {
		return
	}
	g.on = true
}

// Hand-over to a fresh image by the image that started the container
// (idlesInPlace), when it does not go idle in time.
const (
	// freshAfter is how long, beyond the idle delay, the image that
	// started the container waits to go idle before it execs a fresh
	// image of the shim instead, without the start's memory.
	freshAfter = 2 * time.Second
	// freshRetry is how soon it tries that again when a request was in
	// flight or the container not running.
	freshRetry = 100 * time.Millisecond
)

// idlesInPlace reports whether the shim that started the run l goes on
// supervising it itself, without the re-exec that follows a start
// (reexec): going idle leaves the start's memory behind as that re-exec
// would, so a container quiet for the idle delay costs no second start
// of the Go runtime (issue 15: CPU of a cold up). It does not where the
// shim may not go idle: idle off, a health check (its probes may keep
// the shim awake), cgroup v2's OOM watch, re-execs disabled. A shim kept
// awake longer than freshAfter past the idle delay (output that never
// stops, a client attached) execs a fresh image of itself then instead
// (see idleLoop).
func (s *shim) idlesInPlace(l launched) bool {
	if s.cfg.Health != nil || l.memDir == "" && s.events != nil || os.Getenv(noReexecEnv) != "" {
		return false
	}
	s.setupIdle()
	if !s.idle.on {
		return false
	}
	s.idle.memDir = l.memDir
	s.idle.freshBy = time.Now().Add(s.idle.after + freshAfter)
	return true
}

// idleBinary finds berth-idle: at BERTH_IDLE, else beside the shim's
// binary; "" when there is none.
func idleBinary() string {
	self, err := os.Executable()
	if err != nil {
		self = ""
	}
	return idleBinaryBeside(self)
}

// idleBinaryBeside finds berth-idle: at BERTH_IDLE, else beside the
// program exe; "" when there is none.
func idleBinaryBeside(exe string) string {
	if p := os.Getenv(idleBinEnv); p != "" {
		if isExecutableFile(p) {
			return p
		}
		return ""
	}
	if exe == "" {
		return ""
	}
	if p := filepath.Join(filepath.Dir(exe), "berth-idle"); isExecutableFile(p) {
		return p
	}
	return ""
}

func isExecutableFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// serveOrIdle answers the control socket and, when the shim may go idle,
// watches for the quiet in which it does.
func (s *shim) serveOrIdle() {
	for _, c := range s.idle.conns {
		s.idle.active.Add(1)
		cc := &countedConn{Conn: c, g: &s.idle}
		s.conns.Go(func() { s.handle(cc) })
	}
	s.idle.conns = nil
	if !s.idle.on {
		go s.serve()
		return
	}
	s.ln = &countedListener{Listener: s.ln, g: &s.idle}
	go func() {
		for {
			s.serve()
			s.idle.pauseMu.Lock()
			paused, resumed := s.idle.paused, s.idle.resumed
			s.idle.pauseMu.Unlock()
			if paused == nil {
				return // the listener closed
			}
			close(paused)
			<-resumed
		}
	}()
	go s.idleLoop()
}

// peerOwner is the user that the peerListener under ln lets through
// besides root.
func peerOwner(ln net.Listener) (uint32, bool) {
	for {
		switch l := ln.(type) {
		case *peerListener:
			return l.owner, true
		case interface{ unwrap() net.Listener }:
			ln = l.unwrap()
		default:
			return 0, false
		}
	}
}

// countedListener counts the requests being answered.
type countedListener struct {
	net.Listener
	g *shimIdle
}

func (l *countedListener) unwrap() net.Listener { return l.Listener }

func (l *countedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.g.active.Add(1)
	l.g.touch()
	return &countedConn{Conn: c, g: l.g}, nil
}

type countedConn struct {
	net.Conn
	g    *shimIdle
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.g.active.Add(-1)
		c.g.touch()
	})
	return c.Conn.Close()
}

// idleLoop goes idle once the shim has been quiet long enough, until the
// container is down for good.
func (s *shim) idleLoop() {
	t := time.NewTimer(s.idle.after)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		fresh := !s.idle.freshBy.IsZero() && !time.Now().Before(s.idle.freshBy)
		wait, err := s.tryIdle(fresh)
		if err != nil && !fresh && !s.idle.freshBy.IsZero() {
			// The image that started the container: a fresh one instead.
			fmt.Fprintf(os.Stderr, "shim %s: not going idle: %v; handing over to a fresh image\n", s.cfg.ID, err)
			s.idle.freshBy, wait, err = time.Now(), 0, nil
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "shim %s: not going idle: %v\n", s.cfg.ID, err)
			return
		}
		t.Reset(wait)
	}
}

// quietFor is how long before the shim may go idle: 0 when it may now.
func (s *shim) quietFor() time.Duration {
	s.idle.mu.Lock()
	left := s.idle.after - time.Since(s.idle.last)
	s.idle.mu.Unlock()
	if s.idle.active.Load() > 0 {
		return s.idle.after
	}
	if left > 0 {
		return left
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.idleState() {
		return s.idle.after
	}
	return 0
}

// mayHandOver reports whether the shim may hand its run over to a fresh
// image now: no request in flight, the container running, no health
// checks.
func (s *shim) mayHandOver() bool {
	if s.idle.active.Load() > 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handableState() && s.health == nil
}

// handableState reports whether the shim's state lets it hand its run
// over (to berth-idle or a fresh image); the caller holds s.mu.
func (s *shim) handableState() bool {
	return s.state.Status == lifecycle.Running && !s.stopped && s.io != nil && s.proc != nil && s.log != nil
}

// idleState reports whether the shim's state lets it go idle; the caller
// holds s.mu.
func (s *shim) idleState() bool {
	return s.handableState() &&
		(s.idle.memDir != "" || s.events == nil) && // no OOM watch on cgroup v2 yet
		(s.health == nil && s.cfg.Health == nil || s.health != nil && s.health.idleFor() > s.idle.after)
}

// idleFor is how long the health checks have nothing to do: 0 while a
// probe runs.
func (r *healthRun) idleFor() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.probing {
		return 0
	}
	return time.Until(r.p.Next)
}

// pauseHealth ends the health checks r for an idle spell and returns
// where they were; continueHealth starts them again from there, when the
// shim did not go idle after all.
func (s *shim) pauseHealth(r *healthRun) healthProgress {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	r.mu.Lock()
	p := r.p
	r.mu.Unlock()
	s.mu.Lock()
	p.Status = s.state.Health
	s.mu.Unlock()
	return p
}

func (s *shim) continueHealth(p healthProgress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idle.health = &p
	s.health = s.startHealth(*s.cfg.Health, false)
}

// tryIdle goes idle when the shim is quiet, or with fresh, when it is
// not, execs a fresh image of the shim (output may come meanwhile: the
// fresh image reads on where this one stopped): it returns only when it
// did neither, with how long to wait before trying again, or with why it
// never will.
func (s *shim) tryIdle(fresh bool) (time.Duration, error) {
	again := s.idle.after
	toIdle := true
	if wait := s.quietFor(); wait > 0 {
		if !fresh {
			return wait, nil
		}
		if !s.mayHandOver() {
			return min(wait, freshRetry), nil
		}
		toIdle, again = false, freshRetry
	}
	ul, err := unixListener(s.ln)
	if err != nil {
		return 0, err
	}
	// No new request: serving pauses; then none may be in flight.
	s.idle.pauseMu.Lock()
	s.idle.paused, s.idle.resumed = make(chan struct{}), make(chan struct{})
	paused, resumed := s.idle.paused, s.idle.resumed
	s.idle.pauseMu.Unlock()
	_ = ul.SetDeadline(time.Unix(1, 0))
	<-paused
	defer func() {
		s.idle.pauseMu.Lock()
		s.idle.paused, s.idle.resumed = nil, nil
		s.idle.pauseMu.Unlock()
		_ = ul.SetDeadline(time.Time{})
		close(resumed)
	}()
	if s.idle.active.Load() > 0 {
		return again, nil
	}
	s.mu.Lock()
	sio := s.io
	s.mu.Unlock()
	if sio == nil || !s.idle.freeze(sio.outputs, !toIdle) {
		return again, nil
	}
	defer s.idle.unfreeze()
	// No exit is reaped from here on: one reaped before would be lost.
	reaping.Lock()
	defer reaping.Unlock()
	s.mu.Lock()
	proc, health := s.proc, s.health
	s.mu.Unlock()
	pid, err := proc.Pid()
	if err != nil {
		return again, nil
	}
	if proc.exited() {
		return again, nil // exited, or reaped: supervise sees to it
	}
	// The init not reaped, supervise has not ended the health checks
	// yet: they may pause and resume.
	var hp *healthProgress
	if health != nil {
		if health.idleFor() <= s.idle.after {
			return again, nil
		}
		p := s.pauseHealth(health)
		defer func() { s.continueHealth(p) }() // reached only when the exec did not happen
		hp = &p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Status != lifecycle.Running || s.stopped || s.io != sio || s.proc != proc || s.health != health {
		return again, nil
	}
	if !toIdle {
		return 0, s.execFresh(pid, sio) // only when the exec failed
	}
	err = s.execIdle(pid, sio, hp)
	return 0, err // only when the exec failed
}

// runHandoff is the handoff of the run of the init pid with the streams
// sio (the outputs still copied) for an exec in place, with the state an
// idle spell keeps.
func (s *shim) runHandoff(pid int, sio *shimIO, health *healthProgress) (handoff, *shimIO, error) {
	spec, err := s.specJSON()
	if err != nil {
		return handoff{}, nil, err
	}
	// The outputs still copied: one the container closed is no more.
	live := *sio
	live.outputs = nil
	for _, o := range sio.outputs {
		if _, err := rawFD(o.f); err == nil {
			live.outputs = append(live.outputs, o)
		}
	}
	h := handoff{Pid: pid, StartedAt: s.state.StartedAt, MemDir: s.idle.memDir, Lean: s.lean, Spec: spec,
		Idle: &idleResume{Restarts: s.state.Restarts, RestartTimes: s.restartTimes, Backoff: s.idle.backoff, Health: health, OOMRun: s.idle.oomRun}}
	return h, &live, nil
}

// execFresh execs a fresh image of the shim's binary in place to
// supervise the init pid with the streams sio, which takes the run up as
// after an idle spell (resumeShim); it returns only when it could not.
func (s *shim) execFresh(pid int, sio *shimIO) error {
	h, sio, err := s.runHandoff(pid, sio, nil)
	if err != nil {
		return fmt.Errorf("handing over to a fresh image: %w", err)
	}
	mfd, undo, err := s.handOver(&h, sio, s.proc) // the caller holds s.mu
	defer undo()                                  // reached only when the exec did not happen
	if err != nil {
		return fmt.Errorf("handing over to a fresh image: %w", err)
	}
	err = execOutside("/proc/self/exe", os.Args, reexecEnv(os.Environ(), mfd))
	return fmt.Errorf("handing over to a fresh image: %w", err)
}

// execIdle execs berth-idle in place to supervise the init pid with the
// streams sio; it returns only when it could not.
func (s *shim) execIdle(pid int, sio *shimIO, health *healthProgress) error {
	h, sio, err := s.runHandoff(pid, sio, health)
	if err != nil {
		return err
	}
	mfd, undo, err := s.handOver(&h, sio, s.proc) // the caller holds s.mu
	defer undo()                                  // reached only when the exec did not happen
	if err != nil {
		return fmt.Errorf("going idle: %w", err)
	}
	exe, err := unix.Open("/proc/self/exe", unix.O_PATH, 0) // inherited; berth-idle closes it on exec
	if err != nil {
		return fmt.Errorf("going idle: %w", err)
	}
	defer unix.Close(exe)
	logFD := -1
	if !s.log.discard {
		fd, err := rawFD(s.log.f)
		if err != nil {
			return fmt.Errorf("going idle: %w", err)
		}
		if logFD, err = unix.Dup(fd); err != nil { // inherited
			return fmt.Errorf("going idle: %w", err)
		}
		defer unix.Close(logFD)
	}
	args, err := s.idleArgs(h, exe, logFD, health)
	if err != nil {
		return fmt.Errorf("going idle: %w", err)
	}
	// The shim's own arguments: it looks the same to whoever looks for it.
	env := append([]string{idleArgsEnv + "=" + strings.Join(args, "\n")}, reexecEnv(os.Environ(), mfd)...)
	err = execOutside(s.idle.bin, os.Args, env)
	return fmt.Errorf("executing %s: %w", s.idle.bin, err)
}

// idleArgs are berth-idle's arguments (see cmd/berth-idle) to supervise
// the run of the handoff h: exe and logFD (-1: none) are the descriptors
// of the shim's binary and of the log, as berth-idle finds them; health
// is where the health checks are, nil without any.
func (s *shim) idleArgs(h handoff, exe, logFD int, health *healthProgress) ([]string, error) {
	args := []string{"listen=" + strconv.Itoa(h.Listener), "exe=" + strconv.Itoa(exe), "pid=" + strconv.Itoa(h.Pid)}
	// The answer to a state request, which berth-idle gives as it is:
	// nothing changes while idle. Peers are let through as peerListener
	// lets them.
	st := s.state
	st.Shim = true
	resp, err := json.Marshal(shimResponse{State: &st})
	if err != nil {
		return nil, err
	}
	args = append(args, "state="+string(resp)) // berth-idle ends it with a newline, as json.Encoder does
	if owner, ok := peerOwner(s.ln); ok {
		args = append(args, "owner="+strconv.FormatUint(uint64(owner), 10))
	}
	if logFD >= 0 {
		args = append(args, "log="+strconv.Itoa(logFD), "maxsize="+strconv.FormatInt(s.log.maxSize, 10))
	}
	if health != nil {
		args = append(args, "due="+strconv.FormatInt(max(time.Until(health.Next).Milliseconds(), 0), 10))
	}
	if s.events != nil && s.idle.memDir != "" {
		args = append(args, "oom="+s.idle.memDir)
	}
	if sig, err := ParseSignal(s.cfg.stopSignal()); err == nil {
		args = append(args, "stopsig="+strconv.Itoa(int(sig))) // a drop's first signal
	}
	if h.Lean != nil {
		// A drop's answer gives them: the caller destroys the container
		// with no load of libcontainer's state (see Runtime.Drop).
		lean, err := json.Marshal(h.Lean)
		if err != nil {
			return nil, err
		}
		args = append(args, "lean="+string(lean))
	}
	for _, o := range h.Outputs {
		args = append(args, "out="+o.Stream+":"+strconv.Itoa(o.FD))
	}
	if h.PidFD > 0 {
		args = append(args, "pidfd="+strconv.Itoa(h.PidFD)) // the init is not its child
	}
	return args, nil
}
