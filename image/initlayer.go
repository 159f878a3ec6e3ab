package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// An init layer is derived from an image's snapshots: the mount points a
// container's init would make in its own layer, made once and shared read
// only by every container of that image and set of mount points (as
// Docker's <id>-init layer, but per image instead of per container). It
// lives at initlayers/TOP/KEY, TOP being the image's top snapshot and KEY
// a digest of every snapshot and of what was made, and goes with TOP when
// a collection removes that snapshot: a container using it keeps its
// image's snapshots, TOP among them.

// InitLayer returns the init layer over layers (Snapshots' directories,
// bottom first) that what names, making it with fill when there is none
// yet. fill gets an empty scratch directory and returns the layer it made
// inside; the layer is renamed into place whole, so a crash leaves either
// no layer or all of it, and scratch is removed. Concurrent callers (in
// any process) make one layer once.
func (s *Store) InitLayer(ctx context.Context, layers []string, what string, fill func(scratch string) (string, error)) (string, error) {
	if len(layers) == 0 {
		return "", errors.New("init layer: no layers")
	}
	var top string
	for _, l := range layers {
		if filepath.Dir(l) != s.path("snapshots") {
			return "", fmt.Errorf("init layer: %s is not a snapshot of this store", l)
		}
		top = filepath.Base(l)
	}
	sum := sha256.Sum256([]byte(strings.Join(layers, "\n") + "\n\n" + what))
	key := hex.EncodeToString(sum[:16])
	dir := s.path("initlayers", top, key)
	if isDir(dir) {
		return dir, nil
	}
	unlock, err := s.use(ctx) // a collection waits until it is in place
	if err != nil {
		return "", err
	}
	defer unlock()
	unlockKey, err := lockFile(ctx, s.path("locks", "initlayer-"+key+".lock"))
	if err != nil {
		return "", err
	}
	defer unlockKey()
	if isDir(dir) {
		return dir, nil
	}
	prefix := "initlayer-" + key + "-"
	removeStale(s.path("tmp"), prefix)
	scratch, err := os.MkdirTemp(s.path("tmp"), prefix)
	if err != nil {
		return "", fmt.Errorf("making an init layer: %w", err)
	}
	defer os.RemoveAll(scratch)
	made, err := fill(scratch)
	if err != nil {
		return "", err
	}
	if err := syncEntries(made, make(chan struct{}, 4)); err != nil {
		return "", fmt.Errorf("making an init layer: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", fmt.Errorf("making an init layer: %w", err)
	}
	if err := os.Rename(made, dir); err != nil {
		return "", fmt.Errorf("making an init layer: %w", err)
	}
	// Durable before any container's configuration names it.
	for _, d := range []string{filepath.Dir(dir), s.path("initlayers"), s.dir} {
		if err := atomicfile.SyncDir(d); err != nil {
			return "", fmt.Errorf("making an init layer: %w", err)
		}
	}
	return dir, nil
}

// collectInitLayers removes the init layers of the snapshots that are
// not live; the caller holds the store lock exclusively.
func (s *Store) collectInitLayers(live map[string]bool, rep *CollectReport) error {
	ents, err := os.ReadDir(s.path("initlayers"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if live[e.Name()] {
			continue
		}
		keys, _ := os.ReadDir(s.path("initlayers", e.Name()))
		n, err := s.remove(s.path("initlayers", e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Reclaimed += n
		for _, k := range keys {
			os.Remove(s.path("locks", "initlayer-"+k.Name()+".lock"))
		}
	}
	return errors.Join(errs...)
}
