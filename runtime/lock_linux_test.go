package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestWaitUnlocked: the wait for a shim's exit ends when its lock goes,
// ends with the context while the lock is held, and needs no lock on a
// directory that is gone.
func TestWaitUnlocked(t *testing.T) {
	dir := t.TempDir()
	lock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !shimAlive(dir) {
		t.Fatal("shimAlive = false with the lock held")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := waitUnlocked(ctx, dir); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waitUnlocked with the lock held = %v, want the context's end", err)
	}
	got := make(chan error, 1)
	go func() { got <- waitUnlocked(context.Background(), dir) }()
	select {
	case err := <-got:
		t.Fatalf("waitUnlocked returned %v while the lock is held", err)
	case <-time.After(20 * time.Millisecond):
	}
	lock.Close() // the shim's exit
	if err := <-got; err != nil {
		t.Fatalf("waitUnlocked after the lock went = %v", err)
	}
	if shimAlive(dir) {
		t.Fatal("shimAlive = true after the lock went")
	}
	if err := waitUnlocked(context.Background(), dir+"/gone"); err != nil {
		t.Fatalf("waitUnlocked of a missing directory = %v", err)
	}
}

// lockDir waits for a lock a probe releases, but not for ever for one a
// supervisor keeps: it fails, naming why.
func TestLockDirWaitsBounded(t *testing.T) {
	defer func(w time.Duration) { lockWait = w }(lockWait)
	lockWait = 200 * time.Millisecond
	dir := t.TempDir()
	held, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(50 * time.Millisecond); held.Close() }() // a probe's moment
	again, err := lockDir(dir)
	if err != nil {
		t.Fatalf("a lock released after 50 ms: %v", err)
	}
	defer again.Close()
	start := time.Now()
	if f, err := lockDir(dir); err == nil || !strings.Contains(err.Error(), "another supervisor holds it") {
		f.Close()
		t.Fatalf("a lock held for good: %v, want an error", err)
	}
	if waited := time.Since(start); waited < lockWait {
		t.Errorf("gave up after %v, want %v", waited, lockWait)
	}
}
