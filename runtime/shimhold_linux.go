package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/lifecycle"
	"golang.org/x/sys/unix"
)

// A shim spawned by Prepare holds its container created: libcontainer's
// init is made (namespaces, cgroups, mounts, seccomp: nearly all of a
// start's work) and waits on the exec fifo, the container's process not
// run (runc create). Its start is then one request, "start", that opens
// the fifo (runc start): a few milliseconds, where a start from nothing
// takes tens. So containers whose starts must follow one another (a
// depends_on chain) are made side by side and started in order.

// holdRequestTimeout bounds the reading of one request while held, so
// that a client that says nothing cannot keep the container from
// starting.
const holdRequestTimeout = 5 * time.Second

// hold answers the control socket, one request at a time, while the run
// l is held: "start" runs its process, calls started (which records the
// start's event) and answers; "stop" and "release" end it (its init
// killed, the container destroyed) and answer; "state" says created;
// everything else is refused as on a container that does not run. It
// returns started true once the process runs (supervision goes on), else
// the shim's exit code.
func (s *shim) hold(l *launched, started func()) (code int, ok bool) {
	for {
		conn, err := s.ln.Accept()
		if err != nil { // nobody can start it any more
			fmt.Fprintf(os.Stderr, "shim %s: held: %v\n", s.cfg.ID, err)
			s.abandon(*l)
			return 1, false
		}
		if code, over, ok := s.answerHeld(conn, l, started); over {
			return code, ok
		}
	}
}

// held holds the run l, made with hold, until its start (see hold),
// then waits for the container's process to replace libcontainer's init:
// the start is answered at once, but whoever publishes and serves the run
// after this does so once that process runs, so that whoever looks (the
// start of a dependent in a depends_on chain) finds it running. The
// start's event is recorded before its answer. Not started, the run is
// gone and code is the shim's exit code.
func (s *shim) held(l *launched) (code int, started bool) {
	pid, _ := l.proc.Pid()
	watch, err := watchInit(pid)
	if err != nil { // still watched, through /proc/PID/stat
		fmt.Fprintf(os.Stderr, "shim %s: watching the init for its exec: %v\n", s.cfg.ID, err)
	}
	defer watch.close()
	if code, started = s.hold(l, func() { s.event("start", nil) }); started {
		watch.awaitExec()
	}
	return code, started
}

// answerHeld answers one request on conn while the run l is held; over
// says the hold has ended, started (ok) or not (code).
func (s *shim) answerHeld(conn net.Conn, l *launched, started func()) (code int, over, ok bool) {
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(holdRequestTimeout))
	var req shimRequest
	if err := json.NewDecoder(conn).Decode(&req); err != nil {
		return 0, false, false
	}
	_ = conn.SetReadDeadline(time.Time{})
	resp := shimResponse{State: &State{Status: lifecycle.Created, Shim: true}}
	switch req.Op {
	case "state":
	case "start":
		end := phase.Start(s.cfg.ID, "shim.held.exec")
		err := l.ctr.Exec()
		end()
		if err != nil {
			s.abandon(*l)
			resp.State = nil // not running, not held: its shim ends
			resp.Error = fmt.Sprintf("starting container %q: %v", s.cfg.ID, err)
			_ = json.NewEncoder(conn).Encode(resp)
			return 1, true, false
		}
		l.at = time.Now()
		started()
		pid, _ := l.proc.Pid()
		resp.State = &State{Status: lifecycle.Running, Pid: pid, StartedAt: l.at, Shim: true}
		_ = json.NewEncoder(conn).Encode(resp)
		return 0, true, true
	case "stop", "release":
		s.abandon(*l)
		_ = json.NewEncoder(conn).Encode(resp)
		return 0, true, false
	default: // kill, pause, resume, update, attach: it does not run
		resp.fail(fmt.Errorf("%s: %w", req.Op, ErrNotRunning))
	}
	_ = json.NewEncoder(conn).Encode(resp)
	return 0, false, false
}

// abandon ends the run l before anyone supervises it (a held run never
// started, a start whose supervision could not be set up): its init is
// killed and reaped, the container destroyed, its streams closed.
func (s *shim) abandon(l launched) {
	_ = l.proc.Signal(syscall.SIGKILL)
	_, _ = l.proc.Wait()
	if err := l.ctr.Destroy(); err != nil {
		fmt.Fprintf(os.Stderr, "shim %s: %v\n", s.cfg.ID, err)
	}
	l.sio.abort()
}

// execWait bounds how long a held start waits for the container's
// process to replace libcontainer's init.
const execWait = time.Second

// procFile is /proc/PID/NAME of process pid, nil when it is gone.
func procFile(pid int, name string) []byte {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + name)
	return data
}

// initWatch watches libcontainer's init of a held start until it has
// executed the container's process: its name, read from /proc/PID/comm
// through one descriptor (a look costs a read, not an open, a read and a
// close; and the kernel writes comm out for next to nothing, where stat
// costs it tens of microseconds), and its end, through a pidfd (readable
// once the process has ended). Both name the process they were opened
// for, whatever later takes its pid. Either descriptor may be missing
// (-1): its look then reads /proc/PID/stat instead, by the pid, which the
// init keeps while the wait lasts (the shim, its parent, reaps it only
// later). comm alone cannot tell the end: a zombie's name reads as before.
type initWatch struct {
	pid, comm, pidfd int
	init             []byte // its name when watched: libcontainer's init's
	buf              [64]byte
}

// watchInit starts watching process pid, whose name now is its name
// before the exec. The watch is never nil: a descriptor that cannot be
// opened is done without (the error says which), not the wait.
func watchInit(pid int) (*initWatch, error) {
	var errs []error
	comm, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/comm", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		comm = -1
		errs = append(errs, fmt.Errorf("opening its name: %w", err))
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		pidfd = -1
		errs = append(errs, fmt.Errorf("opening a pidfd: %w", err))
	}
	return newInitWatch(pid, comm, pidfd), errors.Join(errs...)
}

// newInitWatch watches process pid through the descriptors comm and
// pidfd, either -1 when missing.
func newInitWatch(pid, comm, pidfd int) *initWatch {
	w := &initWatch{pid: pid, comm: comm, pidfd: pidfd}
	name, _ := w.name() // none when it is gone: awaitExec sees it ended
	w.init = bytes.Clone(name)
	return w
}

// close stops watching.
func (w *initWatch) close() {
	if w.comm >= 0 {
		_ = unix.Close(w.comm)
	}
	if w.pidfd >= 0 {
		_ = unix.Close(w.pidfd)
	}
}

// name is the process's name now; ok is false once it is gone (reaped).
// It is valid until the next call.
func (w *initWatch) name() (name []byte, ok bool) {
	if w.comm < 0 {
		name, _, ok = procStat(w.pid)
		return name, ok
	}
	n, err := unix.Pread(w.comm, w.buf[:], 0)
	if err != nil || n == 0 {
		return nil, false
	}
	return bytes.TrimSuffix(w.buf[:n], []byte("\n")), true
}

// ended reports whether the process has ended (a zombie, or reaped).
func (w *initWatch) ended() bool {
	if w.pidfd < 0 {
		_, state, ok := procStat(w.pid)
		return !ok || state == 'Z' || state == 'X'
	}
	fds := []unix.PollFd{{Fd: int32(w.pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}

// procStat is the name and state of process pid, from /proc/PID/stat
// (the name is in parentheses, the state after them); ok is false when
// it is gone.
func procStat(pid int) (name []byte, state byte, ok bool) {
	stat := procFile(pid, "stat")
	i, j := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if i < 0 || j < i || j+2 >= len(stat) {
		return nil, 0, false
	}
	return stat[i+1 : j], stat[j+2], true
}

// awaitExec waits until the process has executed another program (its
// name changed, then its command line set up), or has ended, for at most
// execWait. The command line is read only once the name changed. It
// reports false when it gave up at the bound.
func (w *initWatch) awaitExec() bool {
	deadline := time.Now().Add(execWait)
	for d := 50 * time.Microsecond; time.Now().Before(deadline); d = min(2*d, 5*time.Millisecond) {
		name, ok := w.name()
		if !ok || w.ended() {
			return true // ended: a zombie's command line reads empty for good
		}
		if !bytes.Equal(name, w.init) && len(procFile(w.pid, "cmdline")) > 0 {
			return true
		}
		time.Sleep(d)
	}
	return false
}
