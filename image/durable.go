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
)

// A batch makes what one pull wrote durable in one step at its end (an
// fsync of every file it wrote, all at once) instead of an fsync per blob
// on the way, and covers the unpacked snapshots too.
//
// The ordering that keeps the store crash safe:
//
//  1. Every blob and snapshot is written under a temporary name in
//     <store>/tmp, checked against its digest, and handed to the batch
//     (add). Writeback of its data starts at once (startWriteback) but
//     nothing waits for it. The per-layer locks stay held.
//  2. commit fsyncs every temporary file and directory (syncEntries): the
//     data and inodes of all of them are on disk.
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

	// afterRename, when set (by tests), runs between steps 3 and 4; an
	// error from it stands for a crash there.
	afterRename func() error
}

type move struct{ tmp, final string }

func (s *Store) newBatch() *batch { return &batch{s: s, afterRename: s.afterRename} }

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
// renamed to final by commit.
func (b *batch) add(tmp, final string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.moves = append(b.moves, move{tmp, final})
}

// commit makes every added entry durable and gives it its final name (see
// the ordering above). Entries whose final name exists already (a small
// blob another writer stored meanwhile) are dropped.
func (b *batch) commit() error {
	b.mu.Lock()
	moves := b.moves
	b.moves = nil
	b.mu.Unlock()
	if len(moves) == 0 {
		return nil
	}
	if err := syncEntries(moves); err != nil {
		removeAll(moves)
		return fmt.Errorf("syncing the image store: %w", err)
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
		if err := syncDir(d); err != nil {
			errs = append(errs, fmt.Errorf("syncing %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// release removes whatever was added but not committed and drops the
// locks; it is safe to call more than once.
func (b *batch) release() {
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

// syncEntries makes every added entry durable: each file and directory
// in it is fsynced, 16 at once, after its writeback was started as it was
// written. (syncfs would do it in one call but also waits for whatever
// else is dirty on the filesystem, which on a busy host is unbounded; on
// this project's bench both take the same time.)
func syncEntries(moves []move) error {
	var paths []string
	for _, m := range moves {
		err := filepath.WalkDir(m.tmp, func(p string, d fs.DirEntry, err error) error {
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
	}
	var g errgroup.Group
	g.SetLimit(16)
	for _, p := range paths {
		g.Go(func() error {
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
