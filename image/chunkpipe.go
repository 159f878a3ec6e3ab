package image

import (
	"errors"
	"io"
	"sync"
)

// A chunkPipe connects a writer and a reader in two goroutines, like
// io.Pipe, but through a queue of large buffers: the writer fills a chunk
// and goes on with the next while the reader drains an earlier one, so a
// layer's download (and blob digest) and its unpack (and diff ID) run
// side by side on two cores instead of taking turns per small write.
// Memory is bounded by the chunks in flight (count × size).
type chunkPipe struct {
	free chan []byte // empty chunks for the writer
	full chan []byte // filled chunks for the reader, in order

	cur []byte // the writer's chunk being filled
	out []byte // the reader's chunk being drained
	rec []byte // the full capacity of out, returned to free when drained

	done     chan struct{} // closed by CloseRead: the writer stops
	mu       sync.Mutex
	werr     error // the writer's end: io.EOF or its error
	rerr     error // the reader's end
	doneOnce sync.Once
}

func newChunkPipe(chunks, size int) *chunkPipe {
	p := &chunkPipe{
		free: make(chan []byte, chunks),
		full: make(chan []byte, chunks),
		done: make(chan struct{}),
	}
	for range chunks {
		p.free <- make([]byte, 0, size)
	}
	return p
}

// errPipeReadClosed is what Write returns after the reader closed with
// no error of its own.
var errPipeReadClosed = errors.New("reading side of the layer pipe closed")

// Write copies b into the chunks, passing on each one as it fills; it
// blocks while every chunk is in flight and fails once the reader closed.
func (p *chunkPipe) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if p.cur == nil {
			select {
			case c := <-p.free:
				p.cur = c[:0]
			case <-p.done:
				return n, p.readErr()
			}
		}
		k := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+k]
		b, n = b[k:], n+k
		if len(p.cur) == cap(p.cur) {
			if err := p.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (p *chunkPipe) send() error {
	select {
	case p.full <- p.cur:
		p.cur = nil
		return nil
	case <-p.done:
		return p.readErr()
	}
}

// CloseWrite passes on what is buffered and ends the stream: the reader
// sees err, or io.EOF when err is nil, after the data written before.
func (p *chunkPipe) CloseWrite(err error) {
	if err == nil {
		err = io.EOF
	}
	if err == io.EOF && len(p.cur) > 0 {
		if p.send() != nil {
			return
		}
	}
	p.mu.Lock()
	p.werr = err
	p.mu.Unlock()
	close(p.full)
}

// Read drains the chunks in order; at the end it returns the writer's
// error (io.EOF for a clean end).
func (p *chunkPipe) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if err := p.next(); err != nil {
		return 0, err
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, nil
}

// next makes sure the reader's chunk has bytes left, returning the drained
// one to the writer and waiting for the next; at the end it returns the
// writer's error (io.EOF for a clean end).
func (p *chunkPipe) next() error {
	for len(p.out) == 0 {
		if p.rec != nil {
			p.free <- p.rec[:0] // never blocks: at most `chunks` exist
			p.rec = nil
		}
		c, ok := <-p.full
		if !ok {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.werr
		}
		p.out, p.rec = c, c
	}
	return nil
}

// A chunkTee copies a download into a writer (the blob file) and, in the
// same buffers, into a chunkPipe (the unpack): each chunk is read once
// from r, written to the blob, then handed to the pipe's reader, never
// copied in between. The blob is written on a goroutine of its own, so
// that the download (socket reads and the blob digest) goes on with the
// next chunks while one is copied into the blob file.
type chunkTee struct {
	r io.Reader
	p *chunkPipe
}

// Read is io.TeeReader's, for a caller that does not use WriteTo.
func (t *chunkTee) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	if n > 0 {
		if _, werr := t.p.Write(b[:n]); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// WriteTo reads r to its end into the pipe's free chunks; each goes to w,
// then to the pipe's reader, in order. It stops at the first error of r,
// of w, or of the pipe's reader (CloseRead), and returns once w is no
// longer written.
func (t *chunkTee) WriteTo(w io.Writer) (int64, error) {
	read := make(chan []byte, cap(t.p.free)) // never blocks: every chunk fits
	stop := make(chan struct{})              // closed when the writing stopped
	werr := make(chan error, 1)
	go func() { werr <- t.writeOut(w, read, stop) }()
	n, err := t.readIn(read, stop)
	close(read)
	if e := <-werr; e != nil {
		err = e // what stopped the reading, or came after it
	}
	return n, err
}

// readIn fills free chunks from r and queues them for writeOut.
func (t *chunkTee) readIn(read chan<- []byte, stop <-chan struct{}) (int64, error) {
	var n int64
	for {
		var c []byte
		select {
		case c = <-t.p.free:
		case <-t.p.done:
			return n, t.p.readErr()
		case <-stop:
			return n, nil // writeOut has the error
		}
		k, rerr := fill(t.r, c[:cap(c)]) // io.EOF only at r's end
		if k == 0 {
			t.p.free <- c[:0]
		} else {
			n += int64(k)
			read <- c[:k]
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// writeOut writes each chunk read to w and hands it on to the pipe's
// reader, which frees it; after a failure it frees the rest itself.
func (t *chunkTee) writeOut(w io.Writer, read <-chan []byte, stop chan<- struct{}) error {
	var err error
	for c := range read {
		if err == nil {
			if _, err = w.Write(c); err == nil {
				select {
				case t.p.full <- c:
					continue
				case <-t.p.done:
					err = t.p.readErr()
				}
			}
			close(stop)
		}
		t.p.free <- c[:0] // never blocks: at most cap(free) chunks exist
	}
	return err
}

// CloseRead stops the writer: its next Write fails with err (or
// errPipeReadClosed).
func (p *chunkPipe) CloseRead(err error) {
	p.doneOnce.Do(func() {
		if err == nil {
			err = errPipeReadClosed
		}
		p.mu.Lock()
		p.rerr = err
		p.mu.Unlock()
		close(p.done)
	})
}

func (p *chunkPipe) readErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rerr
}

// fill reads from r until buf is full or r ends; it returns io.EOF only
// at the end of r, with whatever was read before it.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
