package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// hold makes s's next transaction wait until the returned function is
// called, so that transactions asked for meanwhile queue behind it.
func hold(t *testing.T, s *Store) (release func()) {
	t.Helper()
	entered, gate, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.tx(context.Background(), func(*sql.Tx) error {
			close(entered)
			<-gate
			return nil
		})
	}()
	<-entered
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// queued waits until n transactions wait behind a held one.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.commits.mu.Lock()
		got := len(s.commits.queue)
		s.commits.mu.Unlock()
		if got >= n {
			return
		}
	}
	t.Fatalf("fewer than %d transactions queued", n)
}

// Transactions asked for at once share one commit, and each caller
// returns with its changes committed: another connection sees them.
func TestConcurrentTransactionsShareACommit(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, other := open(t, root), open(t, root)
	release := hold(t, s)
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("p-s%d-1", i)
			if errs[i] = s.PutContainer(ctx, Container{ID: NewID(), Name: name, Project: "p", Service: "s", Number: 1, Spec: []byte("{}")}); errs[i] != nil {
				return
			}
			if _, err := other.Container(ctx, name); err != nil {
				errs[i] = fmt.Errorf("not committed when PutContainer returned: %w", err)
			}
		}()
	}
	queued(t, s, n)
	release()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.commits.shared != 1 {
		t.Fatalf("%d shared commits for %d queued transactions, want 1", s.commits.shared, n)
	}
}

// A transaction that fails in a shared batch fails alone: its changes
// are undone, the others' are kept, and a conflict with one queued
// before it is reported as it would be without sharing.
func TestSharedCommitKeepsEachTransactionAtomic(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	release := hold(t, s)
	var wg sync.WaitGroup
	results := make(map[string]error)
	var mu sync.Mutex
	do := func(key string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f()
			mu.Lock()
			results[key] = err
			mu.Unlock()
		}()
	}
	put := func(name, project string) func() error {
		return func() error {
			return s.PutContainer(ctx, Container{ID: NewID(), Name: name, Project: project, Service: "s", Number: 1, Spec: []byte("{}")})
		}
	}
	do("a", put("x-1", "p"))
	queued(t, s, 1)
	do("conflict", put("x-1", "q")) // the name "a" just took, for another project
	queued(t, s, 2)
	failed := errors.New("failed on purpose")
	do("partial", func() error {
		return s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO volumes (name, project, key, path, created_at) VALUES ('v', 'p', 'v', '/v', 0)`); err != nil {
				return err
			}
			return failed
		})
	})
	queued(t, s, 3)
	do("b", put("y-1", "p"))
	queued(t, s, 4)
	release()
	wg.Wait()
	if results["a"] != nil || results["b"] != nil {
		t.Fatalf("the transactions that could commit failed: %v, %v", results["a"], results["b"])
	}
	if !errors.Is(results["conflict"], ErrNameInUse) {
		t.Fatalf("conflict: got %v, want ErrNameInUse", results["conflict"])
	}
	if !errors.Is(results["partial"], failed) {
		t.Fatalf("partial: got %v", results["partial"])
	}
	for name, project := range map[string]string{"x-1": "p", "y-1": "p"} {
		if c, err := s.Container(ctx, name); err != nil || c.Project != project {
			t.Fatalf("%s: %+v, %v", name, c, err)
		}
	}
	if vols, err := s.Volumes(ctx, ""); err != nil || len(vols) != 0 {
		t.Fatalf("the failed transaction's insert was kept: %v, %v", vols, err)
	}
}

// A caller whose context ends while its transaction is queued returns
// at once with the context's error, its transaction never run, and the
// callers after it still get their commits.
func TestQueuedTransactionLeavesOnCancel(t *testing.T) {
	s := open(t, t.TempDir())
	release := hold(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	cancelled := make(chan error, 1)
	go func() {
		cancelled <- s.tx(ctx, func(*sql.Tx) error { ran <- struct{}{}; return nil })
	}()
	queued(t, s, 1)
	after := make(chan error, 1)
	go func() { after <- s.tx(context.Background(), func(*sql.Tx) error { return nil }) }()
	queued(t, s, 2)
	cancel()
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled queued transaction returned %v, want %v", err, context.Canceled)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled queued transaction waited for the batch ahead of it")
	}
	release()
	if err := <-after; err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Fatal("a cancelled transaction ran")
	default:
	}
	if err := s.tx(context.Background(), func(*sql.Tx) error { return nil }); err != nil {
		t.Fatalf("a transaction after the cancel: %v", err)
	}
}

// A caller that leaves the queue after being told to lead the next batch
// passes the lead on: to the next one queued, or to nobody.
func TestWithdrawPassesTheLead(t *testing.T) {
	newTx := func() *pendingTx { return &pendingTx{done: make(chan error, 1), lead: make(chan struct{}, 1)} }
	p1, p2 := newTx(), newTx()
	c := &commits{queue: []*pendingTx{p1, p2}, leading: true}
	p1.lead <- struct{}{}
	if !c.withdraw(p1) {
		t.Fatal("a queued transaction was not withdrawn")
	}
	select {
	case <-p2.lead:
	default:
		t.Fatal("the lead was not passed to the next one queued")
	}
	p2.lead <- struct{}{}
	if !c.withdraw(p2) || c.leading || len(c.queue) != 0 {
		t.Fatalf("the last one queued left: leading %v, %d queued; want no leader, none queued", c.leading, len(c.queue))
	}
	if c.withdraw(p1) {
		t.Fatal("a transaction no longer queued was withdrawn")
	}
}
