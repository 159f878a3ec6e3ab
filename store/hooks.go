package store

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
)

// RecordExitHook is the shims' exit hook: it records a container's exit
// code and time in the store under root, if the store has this build's
// schema (a shim never migrates it). It runs in the shim process, which has
// nobody to return an error to, so failures go to its stderr (the shim log).
func RecordExitHook(root, id string, code int, at time.Time) {
	err := hookStore.with(root, func(st *Store) error { return st.RecordExit(context.Background(), id, code, at) })
	if err != nil {
		fmt.Fprintf(os.Stderr, "recording the exit of %s: %v\n", id, err)
	}
}

// RecordEventHook is the shims' and the starter's event hook: it records
// an event of the container name in the store under root, if the store
// has this build's schema (neither ever migrates it). Failures go to the
// process's stderr (its log), there being nobody to return them to.
func RecordEventHook(root, name, action string, attrs map[string]string, at time.Time) {
	err := hookStore.with(root, func(st *Store) error { return st.AddEvent(context.Background(), name, action, attrs, at) })
	if err != nil {
		fmt.Fprintf(os.Stderr, "recording event %q of %s: %v\n", action, name, err)
	}
}

// hookStore is the store the hooks write through: opened at the first
// record, kept open while records keep coming, closed hookLinger after
// the last. The starter records the start of every container of an
// `up`, milliseconds apart, from goroutines that then share commits;
// opening the database costs several times the record
// (BenchmarkRecordEventHook: open 444 µs, kept 93 µs). A shim's records
// are seconds apart: it opens the database for each, as before, and keeps
// none of SQLite's memory in between.
var hookStore keptStore

// hookLinger is how long the hooks' store stays open after a record.
const hookLinger = 250 * time.Millisecond

// keptStore is a store under one root kept open while in use and for a
// linger after.
type keptStore struct {
	mu    sync.Mutex
	st    *Store
	root  string
	users int
	idle  *time.Timer
}

// with runs fn on the store under root (OpenCurrent), the kept one when
// it is under that root; a store under another root is opened for fn
// alone.
func (k *keptStore) with(root string, fn func(*Store) error) error {
	k.mu.Lock()
	if k.st == nil {
		st, err := OpenCurrent(root)
		if err != nil {
			k.mu.Unlock()
			return err
		}
		k.st, k.root = st, root
	}
	if k.root != root {
		k.mu.Unlock()
		st, err := OpenCurrent(root)
		if err != nil {
			return err
		}
		defer st.Close()
		return fn(st)
	}
	st := k.st
	k.users++
	k.mu.Unlock()
	defer k.release()
	return fn(st)
}

// release ends a use of the kept store, closing it hookLinger after the
// last use unless another begins meanwhile.
func (k *keptStore) release() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.users--; k.users > 0 {
		return
	}
	if k.idle == nil {
		k.idle = time.AfterFunc(hookLinger, k.closeIdle)
	} else {
		k.idle.Reset(hookLinger)
	}
}

// closeIdle closes the kept store if nobody uses it.
func (k *keptStore) closeIdle() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.users == 0 && k.st != nil {
		k.st.Close()
		k.st = nil
	}
}
