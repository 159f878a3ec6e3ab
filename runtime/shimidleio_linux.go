package runtime

import (
	"io"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// What a shim that may go idle freezes before it does (see
// shimidle_linux.go): the copies of its container's output, and the
// reaping of its init.

// reader is what the copy of output o reads: o's pending output first,
// then o, through the idle gate.
func (g *shimIdle) reader(o output) io.Reader {
	p := g.pending[o.stream]
	delete(g.pending, o.stream)
	if !g.on && p == nil {
		return o.f
	}
	return &idleOutput{f: o.f, pending: p, g: g}
}

// idleOutput is a container's output as its copy reads it in a shim that
// may go idle: reads stop while the shim freezes.
type idleOutput struct {
	f       *os.File
	pending []byte
	g       *shimIdle
	gen     uint64 // the last freeze this copy logged its partial line for
}

func (r *idleOutput) Read(b []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(b, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	if !r.g.on {
		return r.f.Read(b)
	}
	if !r.g.enterRead(&r.gen) {
		// Frozen: the copy logs the partial line it holds, as after a
		// read that timed out, before it waits at the gate.
		return 0, os.ErrDeadlineExceeded
	}
	n, err := r.f.Read(b)
	r.g.leaveRead(n)
	return n, err
}

// SetReadDeadline lets the copy flush a partial line (see copyFrom).
func (r *idleOutput) SetReadDeadline(t time.Time) error { return r.f.SetReadDeadline(t) }

// enterRead waits while the outputs are frozen, the copy then parked:
// all it read is logged. It reports false, once per freeze (gen: the
// copy's last), when the copy is to log a partial line it may hold first.
func (g *shimIdle) enterRead(gen *uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.frozen && *gen != g.gen {
		*gen = g.gen
		return false
	}
	if g.frozen {
		g.parked++
		g.cond.Broadcast()
		for g.frozen {
			g.cond.Wait()
		}
		g.parked--
	}
	g.reading++
	return true
}

// copyBegins and copyEnds count the copies of output of the current run
// (see adopt), which a freeze waits to see parked.
func (g *shimIdle) copyBegins() {
	g.mu.Lock()
	g.copying++
	g.mu.Unlock()
}

func (g *shimIdle) copyEnds() {
	g.mu.Lock()
	g.copying--
	g.cond.Broadcast()
	g.mu.Unlock()
}

func (g *shimIdle) leaveRead(n int) {
	g.mu.Lock()
	g.reading--
	if n > 0 {
		g.last = time.Now()
		g.dirty = g.dirty || g.frozen
	}
	g.cond.Broadcast()
	g.mu.Unlock()
}

// touch records activity: the shim stays awake a while longer.
func (g *shimIdle) touch() {
	g.mu.Lock()
	g.last = time.Now()
	g.mu.Unlock()
}

// freezeWait bounds how long a freeze waits for the copies to park.
const freezeWait = time.Second

// freeze stops the reading of outputs once every copy has logged what it
// read (parked at the gate); it reports false, unfrozen, when output came
// meanwhile (unless dirtyOK) or a copy did not park within freezeWait.
func (g *shimIdle) freeze(outs []output, dirtyOK bool) bool {
	g.mu.Lock()
	g.frozen, g.dirty = true, false
	g.gen++
	g.mu.Unlock()
	past := time.Unix(1, 0)
	for _, o := range outs {
		_ = o.f.SetReadDeadline(past) // a read in flight returns
	}
	late := time.AfterFunc(freezeWait, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	defer late.Stop()
	deadline := time.Now().Add(freezeWait)
	g.mu.Lock()
	for (g.reading > 0 || g.parked < g.copying) && time.Now().Before(deadline) {
		g.cond.Wait()
	}
	dirty := g.dirty && !dirtyOK || g.reading > 0 || g.parked < g.copying
	g.mu.Unlock()
	if dirty {
		g.unfreeze()
		return false
	}
	return true
}

func (g *shimIdle) unfreeze() {
	g.mu.Lock()
	g.frozen = false
	g.cond.Broadcast()
	g.mu.Unlock()
}

// gated is proc, whose reaping waits while the shim goes idle. An init
// that is not the shim's child is never reaped here: its exit read
// through its pidfd stays there for berth-idle to see.
func (g *shimIdle) gated(proc initProc) initProc {
	if !g.on || notChildPidfd(proc) != nil {
		return proc
	}
	if _, ok := proc.(gatedInit); ok {
		return proc
	}
	return gatedInit{proc}
}

// gatedInit is an init whose exit is reaped under the reaping lock.
type gatedInit struct{ initProc }

// Wait waits for the init to exit, then reaps it unless the shim goes
// idle meanwhile (the exec ends the wait).
func (p gatedInit) Wait() (syscall.WaitStatus, error) {
	if pid, err := p.Pid(); err == nil {
		if fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK); err == nil {
			unix.CloseOnExec(fd)
			f := os.NewFile(uintptr(fd), "init-pidfd")
			waitExited(f)
			f.Close()
		}
	}
	reaping.RLock()
	defer reaping.RUnlock()
	return p.initProc.Wait()
}
