package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// Snapshots returns the absolute snapshot directories of img's layers,
// bottom first, unpacking any that are missing from the layer blobs.
func (s *Store) Snapshots(ctx context.Context, img *Image) ([]string, error) {
	var dirs []string
	err := s.eachLayer(ctx, img, "snapshots", func(n int) { dirs = make([]string, n) }, func(ctx context.Context, i int, l v1.Descriptor, diffID v1.Hash) error {
		dir, _, err := s.ensureSnapshot(ctx, diffID, func() (io.ReadCloser, error) { return s.openBlob(l.Digest) })
		dirs[i] = dir
		return err
	})
	if err != nil {
		return nil, err
	}
	return dirs, nil
}

// eachLayer calls fn for every layer of img, with its index and diff ID,
// in parallel (at most s.jobs at once), while holding the store in use;
// size is called first with the number of layers. what names the walk in
// errors.
func (s *Store) eachLayer(ctx context.Context, img *Image, what string, size func(int),
	fn func(ctx context.Context, i int, l v1.Descriptor, diffID v1.Hash) error) error {
	digest, err := parseHash(img.Digest)
	if err != nil {
		return err
	}
	unlock, err := s.use(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	m, cfg, err := s.manifestAndConfig(digest)
	if err != nil {
		return fmt.Errorf("%s of %s: %w", what, img.Digest, err)
	}
	size(len(m.Layers))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(s.jobs)
	for i, l := range m.Layers {
		diffID := cfg.RootFS.DiffIDs[i]
		g.Go(func() error { return fn(ctx, i, l, diffID) })
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("%s of %s: %w", what, img.Digest, err)
	}
	return nil
}

// openBlob opens a layer blob for reading.
func (s *Store) openBlob(h v1.Hash) (io.ReadCloser, error) {
	f, err := os.Open(s.blobPath(h))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("layer blob %s: %w", h, ErrNotFound)
	}
	return f, err
}

// ensureSnapshot makes sure the snapshot of layer diffID exists, unpacking
// the blob open returns into a temporary directory and renaming it into
// place. A per-layer lock keeps concurrent callers (also in other
// processes) from unpacking one layer twice; leftovers of a crashed
// unpack are removed under that lock. existed tells whether it was there.
// Callers hold the store lock (use).
func (s *Store) ensureSnapshot(ctx context.Context, diffID v1.Hash, open func() (io.ReadCloser, error)) (dir string, existed bool, err error) {
	dir, err = s.snapshotDir(diffID.String())
	if err != nil {
		return "", false, err
	}
	if isDir(dir) {
		return dir, true, nil
	}
	unlock, err := lockFile(ctx, s.snapshotLock(diffID))
	if err != nil {
		return "", false, err
	}
	defer unlock()
	if isDir(dir) {
		return dir, true, nil
	}
	rc, err := open()
	if err != nil {
		return "", false, err
	}
	defer rc.Close()
	tmp, err := s.extractTemp(ctx, diffID, rc, false)
	if err != nil {
		return "", false, err
	}
	return dir, false, s.commitSnapshot(tmp, diffID)
}

// extractTemp unpacks the layer r into a fresh temporary directory and
// checks its diff ID; the caller holds the snapshot lock and commits or
// removes the directory. Leftovers of earlier crashed unpacks go first.
// writeback is extractLayer's.
func (s *Store) extractTemp(ctx context.Context, diffID v1.Hash, r io.Reader, writeback bool) (string, error) {
	prefix := "snapshot-" + diffID.Hex + "-"
	removeStale(s.path("tmp"), prefix)
	tmp, err := os.MkdirTemp(s.path("tmp"), prefix)
	if err != nil {
		return "", fmt.Errorf("creating temporary snapshot: %w", err)
	}
	if err := s.extractInto(ctx, diffID, r, tmp, writeback); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// extractInto unpacks the layer r into the directory tmp and checks its
// diff ID; writeback is extractLayer's.
func (s *Store) extractInto(ctx context.Context, diffID v1.Hash, r io.Reader, tmp string, writeback bool) error {
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	limit, what, err := s.layerBudget(tmp)
	if err != nil {
		return fmt.Errorf("unpacking layer %s: %w", diffID, err)
	}
	got, err := extractLayer(ctx, r, tmp, limit, what, writeback)
	if err != nil {
		return fmt.Errorf("unpacking layer %s: %w", diffID, err)
	}
	if got != diffID.String() {
		return fmt.Errorf("unpacking layer %s: diff ID mismatch, content is %s", diffID, got)
	}
	return nil
}

// commitSnapshot renames an extracted temporary directory into place,
// removing it on failure.
func (s *Store) commitSnapshot(tmp string, diffID v1.Hash) error {
	dir, err := s.snapshotDir(diffID.String())
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("committing snapshot %s: %w", diffID, err)
	}
	return nil
}

// snapshotLock and blobLock are the lock files serialising the writers of
// one snapshot and of one blob.
func (s *Store) snapshotLock(diffID v1.Hash) string {
	return s.path("locks", "snapshot-"+diffID.Hex+".lock")
}

func (s *Store) blobLock(h v1.Hash) string {
	return s.path("locks", "blob-"+h.Hex+".lock")
}

// removeStale removes leftovers named prefix* in dir; callers hold the lock
// that every writer of such names holds.
func removeStale(dir, prefix string) {
	old, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	for _, o := range old {
		os.RemoveAll(o)
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
