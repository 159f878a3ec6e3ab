package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// kept reports whether the hooks' store is open, and under which root.
func kept() (open bool, root string) {
	hookStore.mu.Lock()
	defer hookStore.mu.Unlock()
	return hookStore.st != nil, hookStore.root
}

// The hooks record through one store while records keep coming, from
// goroutines at once, and close it hookLinger after the last; a record
// under another root meanwhile goes to that root's store.
func TestHooksKeepTheStoreWhileInUse(t *testing.T) {
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	sa, sb := open(t, a), open(t, b)
	putWeb(t, sa)
	putWeb(t, sb)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { RecordEventHook(a, "p-web-1", "start", nil, time.Now()) })
	}
	wg.Wait()
	if open, root := kept(); !open || root != a {
		t.Fatalf("after the records: store kept %v under %q, want under %q", open, root, a)
	}
	RecordEventHook(b, "p-web-1", "die", nil, time.Now())
	RecordExitHook(b, "p-web-1", 3, time.Now())
	if open, root := kept(); !open || root != a {
		t.Fatalf("after a record under another root: store kept %v under %q, want under %q", open, root, a)
	}
	for _, c := range []struct {
		st   *Store
		want int
	}{{sa, 8}, {sb, 1}} {
		if evs, err := c.st.Events(ctx, EventsQuery{Project: "p"}); err != nil || len(evs) != c.want {
			t.Fatalf("events: %d (%v), want %d", len(evs), err, c.want)
		}
	}
	if c, err := sb.Container(ctx, "p-web-1"); err != nil || c.ExitCode == nil || *c.ExitCode != 3 {
		t.Fatalf("exit recorded by the hook: %+v %v", c, err)
	}
	deadline := time.Now().Add(10 * hookLinger)
	for {
		if open, _ := kept(); !open {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hooks' store still open %v after the last record", 10*hookLinger)
		}
		time.Sleep(hookLinger / 5)
	}
	RecordEventHook(a, "p-web-1", "stop", nil, time.Now()) // opened again
	if evs, err := sa.Events(ctx, EventsQuery{Project: "p"}); err != nil || len(evs) != 9 {
		t.Fatalf("events after the store was closed and opened again: %d (%v)", len(evs), err)
	}
}

// BenchmarkRecordEventHook is what one event costs a shim or the starter:
// "open" opens the store, records and closes it (a shim's event, seconds
// after the last), "kept" records through the store kept open (the
// starter's, milliseconds after the last).
func BenchmarkRecordEventHook(b *testing.B) {
	root := b.TempDir()
	s, err := Open(root)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close() // as berth's own process, holding the database open
	if err := s.PutContainer(context.Background(), Container{ID: NewID(), Name: "p-web-1", Project: "p", Service: "web", Number: 1, Spec: []byte("{}")}); err != nil {
		b.Fatal(err)
	}
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			RecordEventHook(root, "p-web-1", "start", nil, time.Now())
			hookStore.closeIdle()
		}
	})
	b.Run("kept", func(b *testing.B) {
		for b.Loop() {
			RecordEventHook(root, "p-web-1", "start", nil, time.Now())
		}
	})
	hookStore.closeIdle()
}
