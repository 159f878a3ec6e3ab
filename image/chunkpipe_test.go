package image

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
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
