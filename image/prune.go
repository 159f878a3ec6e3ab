package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// CollectReport says what Collect removed.
type CollectReport struct {
	Blobs     int   // blobs deleted
	Snapshots int   // snapshots deleted
	Reclaimed int64 // bytes freed (blobs, snapshots, leftovers of interrupted writes)
}

// Collect deletes every blob and snapshot that neither an index entry nor
// an image whose ID is in keep (one a container uses, even when no
// reference names it any more) needs, the init layers of those snapshots
// (InitLayer), and the leftovers of interrupted writes. It holds the store lock exclusively, so it waits for running
// pulls, loads, imports, saves and pushes (in any process) and they wait
// for it.
func (s *Store) Collect(ctx context.Context, keep map[string]bool) (CollectReport, error) {
	var rep CollectReport
	unlock, err := lockFile(ctx, s.path("locks", "store.lock"))
	if err != nil {
		return rep, fmt.Errorf("collecting image layers: locking image store: %w", err)
	}
	defer unlock()
	im, err := s.readIndex()
	if err != nil {
		return rep, err
	}
	if err := s.collect(im.Manifests, keep, &rep); err != nil {
		return rep, fmt.Errorf("collecting image layers: %w", err)
	}
	return rep, nil
}

// collect deletes the blobs and snapshots that neither the index entries
// nor the kept images reference, and leftovers in tmp. The caller holds the
// store lock exclusively.
func (s *Store) collect(entries []v1.Descriptor, keep map[string]bool, rep *CollectReport) error {
	blobs, snaps := map[string]bool{}, map[string]bool{}
	for _, d := range entries {
		m, cfg, err := s.manifestAndConfig(d.Digest)
		if err != nil {
			return fmt.Errorf("reading image %s: %w", d.Digest, err)
		}
		blobs[d.Digest.Hex], blobs[m.Config.Digest.Hex] = true, true
		if ix := d.Annotations[annotationIndexDigest]; ix != "" {
			blobs[strings.TrimPrefix(ix, "sha256:")] = true // present only when saved
		}
		for _, l := range m.Layers {
			blobs[l.Digest.Hex] = true
		}
		for _, h := range cfg.RootFS.DiffIDs {
			snaps[h.Hex] = true
		}
	}
	for id := range keep {
		h, err := parseHash(id)
		if err != nil {
			continue
		}
		blobs[h.Hex] = true
		raw, err := s.readBlob(h)
		if err != nil {
			continue
		}
		if cfg, err := v1.ParseConfigFile(bytesReader(raw)); err == nil {
			for _, d := range cfg.RootFS.DiffIDs {
				snaps[d.Hex] = true
			}
		}
	}
	var errs []error
	sweep := func(dir string, live map[string]bool, count *int, lockName func(string) string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, e := range ents {
			if live[e.Name()] {
				continue
			}
			n, err := s.remove(filepath.Join(dir, e.Name()))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			*count++
			rep.Reclaimed += n
			os.Remove(s.path("locks", lockName(e.Name())))
		}
	}
	sweep(s.path("blobs", "sha256"), blobs, &rep.Blobs, func(h string) string { return "blob-" + h + ".lock" })
	sweep(s.path("snapshots"), snaps, &rep.Snapshots, func(h string) string { return "snapshot-" + h + ".lock" })
	if err := s.collectInitLayers(snaps, rep); err != nil {
		errs = append(errs, err)
	}
	var stale int
	sweep(s.path("tmp"), nil, &stale, func(string) string { return "" })
	return errors.Join(errs...)
}

// remove deletes a file or tree and returns the bytes its files used. A
// directory is renamed into tmp first, so it vanishes at once and a crash
// leaves only a leftover for the next prune.
func (s *Store) remove(p string) (int64, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return 0, err
	}
	if fi.IsDir() && filepath.Dir(p) != s.path("tmp") {
		trash, err := os.MkdirTemp(s.path("tmp"), "trash-")
		if err != nil {
			return 0, err
		}
		moved := filepath.Join(trash, "x")
		if err := os.Rename(p, moved); err != nil {
			os.Remove(trash)
			return 0, fmt.Errorf("removing %s: %w", p, err)
		}
		p = trash
	}
	n := diskUsage(p)
	if err := os.RemoveAll(p); err != nil {
		return 0, fmt.Errorf("removing %s: %w", p, err)
	}
	return n, nil
}

// diskUsage sums the sizes of the regular files under p, each inode once.
func diskUsage(p string) int64 {
	var n int64
	seen := map[uint64]bool{}
	filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if ino, ok := inode(fi); ok {
			if seen[ino] {
				return nil
			}
			seen[ino] = true
		}
		n += fi.Size()
		return nil
	})
	return n
}
