package image

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

func TestChunkPipeKeepsOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	p := newChunkPipe(3, 1000)
	go func() {
		rest := data
		for len(rest) > 0 {
			k := min(len(rest), 1+rng.IntN(2500)) // smaller and larger than a chunk
			if _, err := p.Write(rest[:k]); err != nil {
				t.Error(err)
				return
			}
			rest = rest[k:]
		}
		p.CloseWrite(nil)
	}()
	got, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, not the %d written in order", len(got), len(data))
	}
}

func TestChunkPipeWriterError(t *testing.T) {
	p := newChunkPipe(2, 8)
	boom := errors.New("download cut")
	go func() {
		p.Write([]byte("0123456789ab")) // one full chunk and a partial one
		p.CloseWrite(boom)
	}()
	got, err := io.ReadAll(p)
	if !errors.Is(err, boom) {
		t.Fatalf("reader got %v, want the writer's error", err)
	}
	if string(got) != "01234567" {
		t.Fatalf("reader got %q before the error, want the full chunk only", got)
	}
}

func TestChunkPipeReaderCloseStopsWriter(t *testing.T) {
	p := newChunkPipe(2, 4)
	bad := errors.New("unsafe layer")
	done := make(chan error, 1)
	go func() {
		_, err := p.Write(make([]byte, 1000)) // more than the chunks in flight
		done <- err
	}()
	buf := make([]byte, 2)
	if _, err := p.Read(buf); err != nil {
		t.Fatal(err)
	}
	p.CloseRead(bad)
	if err := <-done; !errors.Is(err, bad) {
		t.Fatalf("writer got %v, want the reader's error", err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, bad) {
		t.Fatalf("write after close got %v", err)
	}
	p2 := newChunkPipe(1, 4)
	p2.CloseRead(nil)
	if _, err := p2.Write(make([]byte, 10)); !errors.Is(err, errPipeReadClosed) {
		t.Fatalf("write after a clean close got %v", err)
	}
}

// wantArrived reads p to its end and requires the download (done) to
// have ended well, and both p's reader and blob to have got data, whole
// and in order.
func wantArrived(t *testing.T, p *chunkPipe, done <-chan error, blob *recorder, data []byte) {
	t.Helper()
	got, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) || !bytes.Equal(blob.Bytes(), data) {
		t.Fatalf("pipe got %d bytes, blob %d, not the %d read in order", len(got), blob.Len(), len(data))
	}
}

// recorder is a writer that keeps what it was given.
type recorder struct {
	bytes.Buffer
	fail error
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.fail != nil {
		return 0, r.fail
	}
	return r.Buffer.Write(b)
}

// A chunkTee writes the whole download to the blob writer and passes the
// same bytes, in order, to the pipe's reader.
func TestChunkTeeWritesAndPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, 10_000+rng.IntN(1000))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	p := newChunkPipe(3, 1000)
	var blob recorder
	done := make(chan error, 1)
	go func() {
		n, err := (&chunkTee{r: iotest.OneByteReader(bytes.NewReader(data)), p: p}).WriteTo(&blob)
		if err == nil && n != int64(len(data)) {
			err = fmt.Errorf("WriteTo reported %d bytes, want %d", n, len(data))
		}
		p.CloseWrite(err)
		done <- err
	}()
	wantArrived(t, p, done, &blob, data)
}

// A download error reaches both ends after the bytes before it; the
// unpack's failure (CloseRead) stops the download; a failed blob write
// stops it too.
func TestChunkTeeErrors(t *testing.T) {
	cut := errors.New("connection reset")
	p := newChunkPipe(2, 8)
	var blob recorder
	go func() {
		_, err := (&chunkTee{r: io.MultiReader(strings.NewReader("0123456789"), iotest.ErrReader(cut)), p: p}).WriteTo(&blob)
		p.CloseWrite(err)
	}()
	got, err := io.ReadAll(p)
	if !errors.Is(err, cut) || string(got) != "0123456789" {
		t.Fatalf("reader got %q, %v; want the 10 bytes, then the download's error", got, err)
	}

	bad := errors.New("unsafe layer")
	p = newChunkPipe(2, 4)
	stopped := make(chan error, 1)
	go func() {
		_, err := (&chunkTee{r: bytes.NewReader(make([]byte, 1000)), p: p}).WriteTo(io.Discard)
		stopped <- err
	}()
	if _, err := p.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	p.CloseRead(bad)
	if err := <-stopped; !errors.Is(err, bad) {
		t.Fatalf("download after the unpack failed: %v, want the unpack's error", err)
	}

	full := errors.New("no space left")
	p = newChunkPipe(2, 4)
	if _, err := (&chunkTee{r: bytes.NewReader(make([]byte, 100)), p: p}).WriteTo(&recorder{fail: full}); !errors.Is(err, full) {
		t.Fatalf("download with a failing blob write: %v, want the write's error", err)
	}
}

// gate is a blob writer whose first Write waits until released.
type gate struct {
	recorder
	entered, release chan struct{}
	first            bool
}

func (g *gate) Write(b []byte) (int, error) {
	if !g.first {
		g.first = true
		close(g.entered)
		<-g.release
	}
	return g.recorder.Write(b)
}

// countReader counts the bytes read from it.
type countReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// While a chunk is on its way to the blob (a slow disk), the download goes
// on reading into the other chunks; everything still arrives in order.
func TestChunkTeeReadsWhileBlobWrites(t *testing.T) {
	data := make([]byte, 10_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	src := &countReader{r: bytes.NewReader(data)}
	p := newChunkPipe(3, 1000)
	blob := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := (&chunkTee{r: src, p: p}).WriteTo(blob)
		p.CloseWrite(err)
		done <- err
	}()
	<-blob.entered
	deadline := time.Now().Add(10 * time.Second)
	for src.n.Load() < 3000 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := src.n.Load(); n < 3000 {
		t.Fatalf("read %d bytes while the first chunk was being written, want every chunk filled (3000)", n)
	}
	close(blob.release)
	wantArrived(t, p, done, &blob.recorder, data)
}
