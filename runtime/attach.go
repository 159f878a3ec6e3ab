package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Attaching: a client asks a container's shim to "attach" over its control
// socket; after the JSON answer the connection carries frames both ways,
// each a kind byte, a big-endian uint32 length and that many bytes.

// frameKind is what a frame carries.
type frameKind byte

// Frame kinds. From the client: frameStdin, frameCloseStdin, frameResize.
// From the shim: frameStdout, frameStderr, then frameExit once the
// container's process has ended and its output has been sent.
const (
	frameStdin      frameKind = 0
	frameStdout     frameKind = 1
	frameStderr     frameKind = 2
	frameExit       frameKind = 3 // payload: the exit code, int32
	frameCloseStdin frameKind = 4
	frameResize     frameKind = 5 // payload: rows, cols, uint16 each
)

// maxFrame bounds one frame's payload.
const maxFrame = 1 << 20

// writeFrame writes one frame to w.
func writeFrame(w io.Writer, k frameKind, payload []byte) error {
	var head [5]byte
	head[0] = byte(k)
	binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
	if _, err := w.Write(append(head[:], payload...)); err != nil {
		return err
	}
	return nil
}

// readFrame reads one frame from r.
func readFrame(r io.Reader) (frameKind, []byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("attach frame of %d bytes: too large", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return frameKind(head[0]), payload, nil
}

func exitPayload(code int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(int32(code))) }

func sizePayload(sz WinSize) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, sz.Rows), sz.Cols)
}

func parseSize(p []byte) (WinSize, error) {
	if len(p) != 4 {
		return WinSize{}, errors.New("bad resize frame")
	}
	return WinSize{Rows: binary.BigEndian.Uint16(p), Cols: binary.BigEndian.Uint16(p[2:])}, nil
}

// replayLimit bounds what a hub keeps of a run's output for clients that
// attach late (berth run attaches just after the start).
const replayLimit = 1 << 20

// clientQueue is how many frames an attached client may fall behind
// before it is cut off: a slow client never blocks the container.
const clientQueue = 1024

// hub passes one container's output to its attached clients, as it
// comes, and keeps the output of the current run (up to replayLimit) for
// those that ask for it.
type hub struct {
	mu      sync.Mutex
	clients map[*attached]struct{}
	replay  []frame
	size    int  // bytes in replay
	full    bool // replay overflowed: clients asking for it get what is left
	ended   bool // the run is over: new clients get its output and its exit
	code    int
}

type frame struct {
	kind frameKind
	data []byte
}

// attached is one client's outgoing queue.
type attached struct {
	out  chan frame
	done chan struct{} // closed when the client is dropped
	once sync.Once
}

func (a *attached) drop() { a.once.Do(func() { close(a.done) }) }

// begin starts a new run: the replay starts empty.
func (h *hub) begin() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.replay, h.size, h.full, h.ended = nil, 0, false, false
}

// writer is an io.Writer of stream k into the hub.
func (h *hub) writer(k frameKind) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		h.send(k, p)
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// send queues a copy of data as a frame of kind k for every client and
// keeps it for replay; once the replay is full and nobody is attached, a
// long-running container's output costs no copy here.
func (h *hub) send(k frameKind, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	keep := !h.full && h.size+len(data) <= replayLimit
	h.full = !keep
	if !keep && len(h.clients) == 0 {
		return
	}
	f := frame{k, append([]byte(nil), data...)}
	if keep {
		h.replay = append(h.replay, f)
		h.size += len(f.data)
	}
	for c := range h.clients {
		select {
		case c.out <- f:
		default: // too far behind: cut it off rather than stall the container
			c.drop()
			delete(h.clients, c)
		}
	}
}

// end marks the run over with exit code code: every client gets the exit
// frame after the output, and leaves.
func (h *hub) end(code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ended, h.code = true, code
	for c := range h.clients {
		select {
		case c.out <- frame{frameExit, exitPayload(code)}:
		default:
			c.drop()
		}
		delete(h.clients, c)
	}
}

// subscribe adds a client; with replay it first gets the current run's
// output so far. A client of a run already over gets its output and exit.
func (h *hub) subscribe(replay bool) *attached {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := &attached{out: make(chan frame, clientQueue+len(h.replay)+1), done: make(chan struct{})}
	if replay {
		for _, f := range h.replay {
			c.out <- f
		}
	}
	if h.ended {
		c.out <- frame{frameExit, exitPayload(h.code)}
		return c
	}
	if h.clients == nil {
		h.clients = map[*attached]struct{}{}
	}
	h.clients[c] = struct{}{}
	return c
}

// unsubscribe removes client c.
func (h *hub) unsubscribe(c *attached) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
	c.drop()
}
