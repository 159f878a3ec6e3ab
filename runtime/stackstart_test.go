package runtime

import (
	"runtime/debug"
	"testing"
	"unsafe"
)

// deepFrame takes a frame of most of half a shimStack, as the deepest
// calls of a shim's start do, and reports where the caller's local at is
// once it runs (a stack that had to grow for it has moved).
//
//go:noinline
func deepFrame(at *int) uintptr {
	var frame [shimStack / 2]byte
	frame[*at%len(frame)] = 1
	return uintptr(unsafe.Pointer(at)) + uintptr(frame[*at%len(frame)]) - 1
}

// After growStack a goroutine's stack holds shimStack's worth of frames
// without growing again: its locals stay where they are (Go moves a
// stack, and its locals' addresses, each time it grows one).
func TestGrowStackGrowsOnce(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection shrinks it meanwhile
	done := make(chan [3]uintptr)
	go func() {
		local := 1
		before := uintptr(unsafe.Pointer(&local))
		growStack(local)
		grown := uintptr(unsafe.Pointer(&local))
		done <- [3]uintptr{before, grown, deepFrame(&local)}
	}()
	at := <-done
	if at[0] == at[1] {
		t.Fatal("growStack left a fresh goroutine's stack where it was: it did not grow it")
	}
	if at[2] != at[1] {
		t.Fatalf("a frame of %d bytes after growStack moved the stack (%#x -> %#x): growStack did not make room for it", shimStack/2, at[1], at[2])
	}
}
