package store

import (
	"context"
	"database/sql"
	"slices"
	"sync"
)

// commits lets the transactions that goroutines of one process ask for
// at once share one SQLite transaction and so one commit, one sync of the
// WAL (group commit): a cold `up` of many containers records each of them
// twice from its own goroutine, and each commit waited for the disk alone
// while the others queued for the one connection.
//
// One caller at a time leads: it takes every transaction queued (its own
// among them), runs them in order in one transaction and commits it; the
// callers then all get the commit's result, so none returns before its
// changes are on the disk, as with a commit of its own. Each keeps its
// atomicity: when any of them fails, the shared transaction is rolled
// back whole and each is run again in a transaction of its own, in the
// same order (so the one that failed fails as it would have alone, and
// the others see what they would have seen). Whoever queued meanwhile
// leads next. A caller whose context ends while it is still queued
// leaves the queue and gets the context's error; once a batch has taken
// its transaction, it gets that batch's result.
type commits struct {
	db      *sql.DB
	mu      sync.Mutex
	queue   []*pendingTx
	leading bool
	shared  int // batches of more than one committed together (for tests)
}

// pendingTx is one caller's transaction waiting for its commit.
type pendingTx struct {
	fn   func(*sql.Tx) error
	done chan error    // its result
	lead chan struct{} // it leads the next batch
}

// run runs fn in a transaction, sharing it with those queued at the same
// time; alone runs one transaction by itself.
func (c *commits) run(ctx context.Context, fn func(*sql.Tx) error, alone func(func(*sql.Tx) error) error) error {
	p := &pendingTx{fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	if !lead {
		select {
		case err := <-p.done:
			return err
		case <-p.lead:
		case <-ctx.Done():
			if c.withdraw(p) {
				return ctx.Err()
			}
			return <-p.done // a batch has it
		}
	}
	c.mu.Lock()
	batch := c.queue
	c.queue = nil
	c.mu.Unlock()
	c.commit(batch, alone)
	c.mu.Lock()
	if len(c.queue) > 0 {
		c.queue[0].lead <- struct{}{}
	} else {
		c.leading = false
	}
	c.mu.Unlock()
	return <-p.done
}

// withdraw takes p out of the queue, if no batch has taken it, passing
// on the lead if it had been given it; it reports whether p was queued.
func (c *commits) withdraw(p *pendingTx) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.queue, p)
	if i < 0 {
		return false
	}
	c.queue = slices.Delete(c.queue, i, i+1)
	select {
	case <-p.lead: // it was next to lead
		if len(c.queue) > 0 {
			c.queue[0].lead <- struct{}{}
		} else {
			c.leading = false
		}
	default:
	}
	return true
}

// commit runs batch in one transaction and gives each its result.
func (c *commits) commit(batch []*pendingTx, alone func(func(*sql.Tx) error) error) {
	if len(batch) == 1 {
		batch[0].done <- alone(batch[0].fn)
		return
	}
	tx, err := c.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, p := range batch {
			p.done <- err
		}
		return
	}
	for _, p := range batch {
		if err := p.fn(tx); err != nil {
			tx.Rollback()
			for _, p := range batch {
				p.done <- alone(p.fn)
			}
			return
		}
	}
	err = tx.Commit()
	if err == nil {
		c.mu.Lock()
		c.shared++
		c.mu.Unlock()
	}
	for _, p := range batch {
		p.done <- err
	}
}
