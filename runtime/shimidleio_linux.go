package runtime

import (
	"io"
	"os"
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
	r.g.enterRead()
	n, err := r.f.Read(b)
	r.g.leaveRead(n)
	return n, err
}

// SetReadDeadline lets the copy flush a partial line (see copyFrom).
func (r *idleOutput) SetReadDeadline(t time.Time) error { return r.f.SetReadDeadline(t) }

func (g *shimIdle) enterRead() {
	g.mu.Lock()
	for g.frozen {
		g.cond.Wait()
	}
	g.reading++
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

// freeze stops the reading of outputs; it reports false, unfrozen, when
// output came meanwhile.
func (g *shimIdle) freeze(outs []output) bool {
	g.mu.Lock()
	g.frozen, g.dirty = true, false
	g.mu.Unlock()
	past := time.Unix(1, 0)
	for _, o := range outs {
		_ = o.f.SetReadDeadline(past) // a read in flight returns
	}
	g.mu.Lock()
	for g.reading > 0 {
		g.cond.Wait()
	}
	dirty := g.dirty
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

// gated is proc, whose reaping waits while the shim goes idle.
func (g *shimIdle) gated(proc initProc) initProc {
	if !g.on {
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
func (p gatedInit) Wait() (*os.ProcessState, error) {
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
