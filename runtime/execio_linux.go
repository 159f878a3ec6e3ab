package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// drainGrace is how long output is still copied after the process has
// exited, for what it wrote last; children it left holding its stdout
// cannot keep exec waiting longer (Docker waits as long).
const drainGrace = 2 * time.Second

// execIO is the plumbing between an exec's process and the caller's
// streams.
type execIO interface {
	// started runs once the process runs, before waiting for it.
	started() error
	// finish copies what is left of the output (for a bounded time) and
	// releases everything, once the process has exited.
	finish()
	// abort releases everything when the process did not start.
	abort()
}

// noIO is the plumbing of a detached exec: none.
type noIO struct{}

func (noIO) started() error { return nil }
func (noIO) finish()        {}
func (noIO) abort()         {}

// pipeIO connects the process to the caller's streams through pipes, so
// that the caller's own files are never handed to the container (whose
// init would chown them to the exec's user).
type pipeIO struct {
	child  []*os.File // the process's ends, closed here once it runs
	output []*os.File // our read ends of stdout and stderr
	copied sync.WaitGroup
}

// newPipeIO makes the pipes of o's streams and sets them on p.
func newPipeIO(p *libcontainer.Process, o ExecOptions) (*pipeIO, error) {
	pio := &pipeIO{}
	if o.Stdin != nil {
		rd, wr, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("making the stdin pipe: %w", err)
		}
		p.Stdin, pio.child = rd, append(pio.child, rd)
		// It may block reading o.Stdin after the process has gone; the
		// write end closes then, and the copy ends at its next write.
		go func() {
			_, _ = io.Copy(wr, o.Stdin)
			wr.Close()
		}()
	}
	for _, out := range []struct {
		dst  io.Writer
		slot *io.Writer
	}{{o.Stdout, &p.Stdout}, {o.Stderr, &p.Stderr}} {
		if out.dst == nil {
			continue
		}
		rd, wr, err := os.Pipe()
		if err != nil {
			pio.abort()
			return nil, fmt.Errorf("making an output pipe: %w", err)
		}
		*out.slot, pio.child, pio.output = wr, append(pio.child, wr), append(pio.output, rd)
		pio.copied.Add(1)
		go func() {
			defer pio.copied.Done()
			_, _ = io.Copy(out.dst, rd)
		}()
	}
	return pio, nil
}

func (pio *pipeIO) started() error {
	closeAll(pio.child)
	return nil
}

func (pio *pipeIO) finish() {
	waitBounded(&pio.copied, drainGrace)
	closeAll(pio.output)
}

func (pio *pipeIO) abort() {
	closeAll(pio.child)
	closeAll(pio.output)
}

// ttyIO connects the process to a pseudo-terminal whose master side the
// container's init sends back over a socket: the caller's stdin is
// written to it, its output copied to the caller's stdout.
type ttyIO struct {
	o       ExecOptions
	sock    *os.File // our end of the console socket
	child   *os.File // the init's end, closed here once it runs
	master  *os.File
	copied  sync.WaitGroup
	resized chan struct{} // closed to stop following resizes
}

// newTtyIO makes the console socket and sets it and the initial size on p.
func newTtyIO(p *libcontainer.Process, o ExecOptions) (*ttyIO, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("making the console socket: %w", err)
	}
	t := &ttyIO{o: o, sock: os.NewFile(uintptr(fds[0]), "console-socket"), child: os.NewFile(uintptr(fds[1]), "console-socket-child"),
		resized: make(chan struct{})}
	p.ConsoleSocket, p.ConsoleWidth, p.ConsoleHeight = t.child, o.Size.Cols, o.Size.Rows
	return t, nil
}

// started receives the terminal's master and starts copying.
func (t *ttyIO) started() error {
	t.child.Close()
	master, err := recvFile(t.sock)
	t.sock.Close()
	if err != nil {
		return fmt.Errorf("receiving the terminal: %w", err)
	}
	t.master = master
	if t.o.Stdin != nil {
		// Like the stdin pipe's copy, it may outlive the process.
		go func() { _, _ = io.Copy(master, t.o.Stdin) }()
	}
	t.copied.Add(1)
	go func() {
		defer t.copied.Done()
		dst := t.o.Stdout
		if dst == nil {
			dst = io.Discard
		}
		_, _ = io.Copy(dst, master) // ends with EIO once every holder of the terminal has gone
	}()
	go func() {
		for {
			select {
			case <-t.resized:
				return
			case sz := <-t.o.Resize:
				_ = resize(master, sz)
			}
		}
	}()
	return nil
}

func (t *ttyIO) finish() {
	close(t.resized)
	waitBounded(&t.copied, drainGrace)
	t.master.Close()
}

func (t *ttyIO) abort() {
	t.child.Close()
	t.sock.Close()
	if t.master != nil {
		t.master.Close()
	}
}

// recvFile receives one file descriptor sent over a unix socket with
// SCM_RIGHTS, as libcontainer's init sends the terminal's master.
func recvFile(sock *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), name, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if n == 0 && oobn == 0 {
		return nil, errors.New("the container's init closed the console socket")
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("bad console message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("bad console message: %v", err)
	}
	// Non-blocking, so that the file is pollable and closing it ends a
	// copy blocked reading it.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}

// resize sets the size of the terminal whose master is f.
func resize(f *os.File, sz WinSize) error {
	rc, err := f.SyscallConn() // not f.Fd(), which would make f blocking
	if err != nil {
		return err
	}
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		ioErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: sz.Rows, Col: sz.Cols})
	})
	return errors.Join(err, ioErr)
}

// waitBounded waits for wg, for at most d.
func waitBounded(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}
