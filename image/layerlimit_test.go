package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A layer whose decompressed content exceeds the cap stops with
// ErrLayerTooLarge, leaving no snapshot and no temporary directory; one
// within it unpacks.
func TestLayerSizeCap(t *testing.T) {
	root := t.TempDir()
	s := mustOpen(t, root, WithMaxLayerSize(1<<20))
	unpack := func(layer []byte) (string, error) {
		dir, _, err := s.ensureSnapshot(context.Background(), sha256Of(layer), func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(layer)), nil
		})
		return dir, err
	}
	big := mkTar(t, file("big", strings.Repeat("x", 2<<20)))
	if _, err := unpack(big); !errors.Is(err, ErrLayerTooLarge) || !strings.Contains(err.Error(), "cap of 1048576 bytes") {
		t.Fatalf("a 2 MiB layer under a 1 MiB cap: %v", err)
	}
	if dir, _ := s.snapshotDir(sha256Of(big).String()); isDir(dir) {
		t.Errorf("the refused layer was committed at %s", dir)
	}
	if left, _ := os.ReadDir(filepath.Join(root, "image", "tmp")); len(left) != 0 {
		t.Errorf("the refused layer left %d temporary entries", len(left))
	}
	small := mkTar(t, file("small", strings.Repeat("y", 100<<10)))
	dir, err := unpack(small)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "small")); err != nil || len(b) != 100<<10 {
		t.Errorf("the small layer: %d bytes, %v", len(b), err)
	}
}

// Without a cap, the free space of the store's filesystem bounds a layer.
func TestLayerBudgetIsTheFreeSpace(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	limit, what, err := s.layerBudget(s.path("tmp"))
	if err != nil || limit <= 1 || !strings.Contains(what, "free in") {
		t.Errorf("budget %d (%s), %v", limit, what, err)
	}
}
