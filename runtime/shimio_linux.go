package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// shimIO is one run's standard streams as the shim holds them: the init's
// ends, handed to libcontainer and closed here once it runs, and the
// shim's: the outputs it logs, and where attached clients' input goes.
type shimIO struct {
	proc    procIO
	child   []*os.File // the init's ends
	sock    *os.File   // our end of the console socket, with a terminal
	outputs []output
	stdin   *os.File // the stdin pipe's write end, or the terminal; nil unless stdin is open
	master  *os.File // the terminal, with one
	tty     bool
	open    bool // stdin_open
}

// output is one stream the shim reads from the container.
type output struct {
	stream string // "stdout" or "stderr", as logged
	kind   frameKind
	f      *os.File
}

// newShimIO makes the streams of a run of c: a terminal (through a
// console socket) with c.Tty, else pipes for stdout, stderr and, with
// c.OpenStdin, stdin.
func newShimIO(c Config) (*shimIO, error) {
	sio := &shimIO{tty: c.Tty, open: c.OpenStdin}
	if c.Tty {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("making the console socket: %w", err)
		}
		sio.sock = os.NewFile(uintptr(fds[0]), "console-socket")
		child := os.NewFile(uintptr(fds[1]), "console-socket-child")
		sio.child = append(sio.child, child)
		sio.proc = procIO{ConsoleSocket: child, Size: c.ConsoleSize}
		return sio, nil
	}
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err != nil {
			sio.abort()
			return nil, nil, fmt.Errorf("making a pipe for the container: %w", err)
		}
		return r, w, nil
	}
	for _, o := range []struct {
		stream string
		kind   frameKind
		slot   **os.File
	}{{"stdout", frameStdout, &sio.proc.Stdout}, {"stderr", frameStderr, &sio.proc.Stderr}} {
		r, w, err := pipe()
		if err != nil {
			return nil, err
		}
		*o.slot, sio.child = w, append(sio.child, w)
		sio.outputs = append(sio.outputs, output{o.stream, o.kind, r})
	}
	if c.OpenStdin {
		r, w, err := pipe()
		if err != nil {
			return nil, err
		}
		sio.proc.Stdin, sio.child, sio.stdin = r, append(sio.child, r), w
	}
	return sio, nil
}

// started closes the init's ends once it runs and, with a terminal,
// receives its master side from the init.
func (sio *shimIO) started() error {
	closeAll(sio.child)
	sio.child = nil
	if !sio.tty {
		return nil
	}
	master, err := recvFile(sio.sock)
	sio.sock.Close()
	sio.sock = nil
	if err != nil {
		return fmt.Errorf("receiving the container's terminal: %w", err)
	}
	sio.master = master
	sio.outputs = []output{{"stdout", frameStdout, master}}
	if sio.open {
		sio.stdin = master
	}
	return nil
}

// closeStdin ends the container's input: the pipe's write end closes
// (a terminal stays, for its output).
func (sio *shimIO) closeStdin() {
	if sio.stdin != nil && !sio.tty {
		sio.stdin.Close()
	}
}

// abort releases every file of sio, when its run did not start.
func (sio *shimIO) abort() {
	closeAll(sio.child)
	if sio.sock != nil {
		sio.sock.Close()
	}
	sio.closeStdin()
	for _, o := range sio.outputs {
		o.f.Close()
	}
}
