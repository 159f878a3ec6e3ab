package image

import (
	"context"
	"io/fs"

	"errors"
	"fmt"
	"golang.org/x/sync/errgroup"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// A batch makes what one pull wrote durable in one step at its end (an
// fsync of every file it wrote, all at once) instead of an fsync per blob
// on the way, and covers the unpacked snapshots too.
//
// The ordering that keeps the store crash safe:
//
//  1. Every blob and snapshot is written under a temporary name in
//     <store>/tmp, checked against its digest, and handed to the batch
//     (add). Writeback of its data starts as it is written
//     (startWriteback). The per-layer locks stay held.
//  2. add starts fsyncing every file and directory of the entry at once,
//     in the background (syncEntries), while the other layers still
//     arrive; commit waits for all of those syncs: the data and inodes of
//     every entry are on disk.
//  3. Only then does each get its final name (rename), so a final name
//     never points at content a crash could tear: "present means valid"
//     (hasBlob, isDir of a snapshot) holds across power loss.
//  4. The directories holding the new names are synced, so the renames
//     themselves are on disk, and the locks are released.
//  5. The caller records the image (index.json, itself written through a
//     synced temporary file and a rename) only after commit returned.
//
// A crash before 3 leaves temporary names only, which the next writer of
// the same layer removes (removeStale) and no image record; a crash
// between 3 and 5 leaves complete blobs and snapshots that a re-pull
// finds present and no record. Neither can record an image whose blobs or
// layers are not durable.
type batch struct {
	s *Store

	mu      sync.Mutex
	moves   []move   // temporary name -> final name, committed in order
	unlocks []func() // the layer locks, released after the commit
	syncErr error    // the first failed background sync of an entry

	syncing sync.WaitGroup // the background syncs of added entries
	fsyncs  chan struct{}  // bounds the fsyncs in flight across entries

	// syncEntry makes one added entry durable (syncEntries; tests replace it).
	syncEntry func(path string, slots chan struct{}) error

	// afterRename, when set (by tests), runs between steps 3 and 4; an
	// error from it stands for a crash there.
	afterRename func() error
}

type move struct{ tmp, final string }

// syncsInFlight bounds a batch's concurrent fsyncs (each holds a thread).
const syncsInFlight = 16

func (s *Store) newBatch() *batch {
	return &batch{s: s, afterRename: s.afterRename, fsyncs: make(chan struct{}, syncsInFlight), syncEntry: syncEntries}
}

// lock takes the exclusive file locks at paths in sorted order, so that
// two pulls that need some of the same layers (in this process or
// another) never wait for each other in a cycle; they are held until
// release.
func (b *batch) lock(ctx context.Context, paths []string) error {
	paths = slices.Clone(paths)
	slices.Sort(paths)
	for _, p := range slices.Compact(paths) {
		unlock, err := lockFile(ctx, p)
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.unlocks = append(b.unlocks, unlock)
		b.mu.Unlock()
	}
	return nil
}

// add hands a checked temporary file or directory to the batch, to be
// renamed to final by commit, and starts syncing it in the background
// (the layers that finish first are on disk while the last still
// arrive, instead of every sync waiting for the end of the pull).
func (b *batch) add(tmp, final string) {
	b.mu.Lock()
	b.moves = append(b.moves, move{tmp, final})
	b.mu.Unlock()
	b.syncing.Add(1)
	go func() {
		defer b.syncing.Done()
		if err := b.syncEntry(tmp, b.fsyncs); err != nil {
			b.mu.Lock()
			if b.syncErr == nil {
				b.syncErr = fmt.Errorf("syncing %s: %w", filepath.Base(tmp), err)
			}
			b.mu.Unlock()
		}
	}()
}

// commit makes every added entry durable and gives it its final name (see
// the ordering above). Entries whose final name exists already (a small
// blob another writer stored meanwhile) are dropped.
func (b *batch) commit() error {
	b.syncing.Wait() // every entry added was synced, or failed to
	b.mu.Lock()
	moves, serr := b.moves, b.syncErr
	b.moves = nil
	b.mu.Unlock()
	if len(moves) == 0 {
		return nil
	}
	if serr != nil {
		removeAll(moves)
		return fmt.Errorf("syncing the image store: %w", serr)
	}
	dirs := map[string]bool{}
	var errs []error
	for i, m := range moves {
		if err := os.Rename(m.tmp, m.final); err != nil {
			if _, serr := os.Lstat(m.final); serr == nil {
				os.RemoveAll(m.tmp) // the same content, stored by another writer
				continue
			}
			removeAll(moves[i:])
			errs = append(errs, fmt.Errorf("committing %s: %w", filepath.Base(m.final), err))
			break
		}
		dirs[filepath.Dir(m.final)] = true
	}
	if b.afterRename != nil {
		if err := b.afterRename(); err != nil {
			return err
		}
	}
	for d := range dirs {
		if err := atomicfile.SyncDir(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// release removes whatever was added but not committed and drops the
// locks; it is safe to call more than once.
func (b *batch) release() {
	b.syncing.Wait() // no sync still reads what is removed below
	b.mu.Lock()
	moves, unlocks := b.moves, b.unlocks
	b.moves, b.unlocks = nil, nil
	b.mu.Unlock()
	removeAll(moves)
	for _, u := range slices.Backward(unlocks) {
		u()
	}
}

func removeAll(moves []move) {
	for _, m := range moves {
		os.RemoveAll(m.tmp)
	}
}

// syncEntries makes the entry at path durable: each file and directory
// in it is fsynced (at most cap(slots) at once across the batch), after
// its writeback was started as it was written. (syncfs would do it in one
// call but also waits for whatever else is dirty on the filesystem, which
// on a busy host is unbounded.)
func syncEntries(path string, slots chan struct{}) error {
	var paths []string
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() || d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var g errgroup.Group
	for _, p := range paths {
		slots <- struct{}{}
		g.Go(func() error {
			defer func() { <-slots }()
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Sync()
		})
	}
	return g.Wait()
}
