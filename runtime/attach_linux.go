package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/berth-dev/berth/lifecycle"
)

// AttachOptions say which of a container's streams an attach connects.
type AttachOptions struct {
	Stdin          io.Reader // nil: no input
	Stdout, Stderr io.Writer // nil: discarded
	// Replay gives the output of the container's current run so far
	// first: what a `berth run` attaching just after the start missed.
	// When the run has already ended, its output is read from the log.
	Replay bool
	Resize <-chan WinSize // the terminal's new sizes, with a terminal
	// DetachKeys is a sequence in Stdin that ends the attach and leaves
	// the container running (Docker's ctrl-p,ctrl-q); nil for none.
	DetachKeys []byte
}

// ErrDetached is Attach's error when the detach keys ended it.
var ErrDetached = errors.New("detached from the container")

// ErrNotAttachable is Attach's error for a container that is not running.
var ErrNotAttachable = errors.New("cannot attach to a stopped container, start it first")

// Attach connects the caller's streams to container id's until its
// process ends, and returns its exit code.
func (r *Runtime) Attach(ctx context.Context, id string, o AttachOptions) (int, error) {
	p := r.paths(id)
	conn, err := (&net.Dialer{}).DialContext(ctx, "unix", p.sock)
	if err != nil {
		return r.attachEnded(ctx, id, o)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := json.NewEncoder(conn).Encode(shimRequest{Op: "attach", Stdin: o.Stdin != nil, Replay: o.Replay}); err != nil {
		return 0, fmt.Errorf("attaching to %q: %w", id, err)
	}
	in := bufio.NewReader(conn)
	line, err := in.ReadBytes('\n')
	if err != nil {
		// The shim went away at once: the run is over.
		return r.attachEnded(ctx, id, o)
	}
	var resp shimResponse
	if err := json.Unmarshal(line, &resp); err != nil {
		return 0, fmt.Errorf("attaching to %q: %w", id, err)
	}
	if resp.Error != "" {
		return 0, fmt.Errorf("attaching to %q: %s", id, resp.Error)
	}
	w := &frameWriter{w: conn}
	detached := make(chan struct{})
	if o.Stdin != nil {
		go sendInput(w, o.Stdin, o.DetachKeys, detached)
	}
	go func() {
		for sz := range o.Resize {
			if w.write(frameResize, sizePayload(sz)) != nil {
				return
			}
		}
	}()
	code, err := receiveOutput(in, o)
	select {
	case <-detached:
		return 0, ErrDetached
	default:
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("attached to %q: %w", id, err)
	}
	return code, nil
}

// attachEnded is an attach to a container without a shim: with Replay
// and an ended run, its logged output and exit code; else an error.
func (r *Runtime) attachEnded(ctx context.Context, id string, o AttachOptions) (int, error) {
	st, err := r.State(ctx, id)
	if err == nil && st.Shim && st.Status == lifecycle.Created {
		// A shim that no longer answers is going away, its run over: once
		// it has gone, the exit it recorded is there to read.
		if err = r.waitShim(ctx, id); err == nil {
			st, err = r.State(ctx, id)
		}
	}
	if err != nil {
		return 0, err
	}
	if st.Status != lifecycle.Exited || !o.Replay {
		return 0, fmt.Errorf("attaching to %q: %w", id, ErrNotAttachable)
	}
	// The whole log: a run ended for good is a one-off's only run.
	err = ReadLogs(ctx, r.LogPath(id), LogOptions{Tail: -1}, func(l LogLine) error {
		dst := o.Stdout
		if l.Stream == "stderr" {
			dst = o.Stderr
		}
		if dst != nil {
			_, err := io.WriteString(dst, l.Text)
			return err
		}
		return nil
	})
	return st.ExitCode, err
}

// receiveOutput copies output frames to o's writers until the exit frame.
func receiveOutput(in io.Reader, o AttachOptions) (int, error) {
	for {
		kind, data, err := readFrame(in)
		if err != nil {
			return 0, err
		}
		var dst io.Writer
		switch kind {
		case frameStdout:
			dst = o.Stdout
		case frameStderr:
			dst = o.Stderr
		case frameExit:
			if len(data) != 4 {
				return 0, errors.New("bad exit frame")
			}
			return int(int32(binary.BigEndian.Uint32(data))), nil
		}
		if dst != nil {
			if _, err := dst.Write(data); err != nil {
				return 0, err
			}
		}
	}
}

// sendInput sends stdin as frames, then the end of input; on the detach
// keys it closes detached and the connection instead.
func sendInput(w *frameWriter, stdin io.Reader, keys []byte, detached chan<- struct{}) {
	buf := make([]byte, 32<<10)
	var held []byte // a prefix of keys read so far, not yet sent
	for {
		n, err := stdin.Read(buf)
		if n > 0 {
			out, found := scanDetach(append(held, buf[:n]...), keys)
			if found {
				close(detached)
				w.close()
				return
			}
			held = out.held
			if len(out.send) > 0 && w.write(frameStdin, out.send) != nil {
				return
			}
		}
		if err != nil {
			if len(held) > 0 {
				_ = w.write(frameStdin, held)
			}
			_ = w.write(frameCloseStdin, nil)
			return
		}
	}
}

// scanned is input split by the detach keys: what can go to the
// container, and a trailing prefix of the keys held back.
type scanned struct{ send, held []byte }

// scanDetach looks for keys in p: found, or p split into what to send and
// a trailing partial match to hold.
func scanDetach(p, keys []byte) (scanned, bool) {
	if len(keys) == 0 {
		return scanned{send: p}, false
	}
	if bytes.Contains(p, keys) {
		return scanned{}, true
	}
	for k := min(len(keys)-1, len(p)); k > 0; k-- {
		if bytes.Equal(p[len(p)-k:], keys[:k]) {
			return scanned{send: p[:len(p)-k], held: bytes.Clone(p[len(p)-k:])}, false
		}
	}
	return scanned{send: p}, false
}

// frameWriter writes frames from several goroutines.
type frameWriter struct {
	mu sync.Mutex
	w  net.Conn
}

func (f *frameWriter) write(k frameKind, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return writeFrame(f.w, k, p)
}

func (f *frameWriter) close() { f.w.Close() }

// attach streams the run's output to conn and, with req.Stdin, passes
// input from in to the container, until the run ends or the client goes.
func (s *shim) attach(conn net.Conn, in io.Reader, req shimRequest) {
	c := s.hub.subscribe(req.Replay)
	defer s.hub.unsubscribe(c)
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	st.Shim = true
	if err := json.NewEncoder(conn).Encode(shimResponse{State: &st}); err != nil {
		return
	}
	inputDone := make(chan struct{})
	go func() {
		defer close(inputDone)
		s.input(in, req.Stdin, c)
	}()
	for {
		select {
		case f := <-c.out:
			if err := writeFrame(conn, f.kind, f.data); err != nil {
				return
			}
			if f.kind == frameExit {
				// Closing with the client's input unread would reset the
				// connection under the frames it has not read yet: end
				// ours, and let the client close first.
				if uc, ok := conn.(*net.UnixConn); ok {
					_ = uc.CloseWrite()
				}
				select {
				case <-inputDone:
				case <-time.After(drainGrace):
				}
				return
			}
		case <-c.done:
			return
		}
	}
}

// input applies a client's frames: its stdin (when it attached stdin),
// the end of it (closing stdin with StdinOnce), terminal resizes.
func (s *shim) input(in io.Reader, stdin bool, c *attached) {
	defer c.drop()
	for {
		kind, data, err := readFrame(in)
		if err != nil {
			return
		}
		s.mu.Lock()
		sio := s.io
		s.mu.Unlock()
		if sio == nil {
			continue
		}
		switch kind {
		case frameStdin:
			if stdin && sio.stdin != nil {
				_, _ = sio.stdin.Write(data)
			}
		case frameCloseStdin:
			if stdin && s.cfg.StdinOnce {
				sio.closeStdin()
			}
		case frameResize:
			if sz, err := parseSize(data); err == nil && sio.master != nil {
				_ = resize(sio.master, sz)
			}
		}
	}
}
