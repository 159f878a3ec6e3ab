package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// An init layer is made once per image and key, however many callers
// ask at once; a failed fill leaves nothing; a collection removes the
// init layers of the images it removes (and their lock files) and keeps
// those of the images kept or in use.
func TestInitLayer(t *testing.T) {
	ctx := context.Background()
	reg := newTestRegistry(t)
	base := layerOf(t, mkTar(t, dir("etc"), file("etc/passwd", "root:x:0:0::/:/bin/sh\n")))
	s := mustOpen(t, t.TempDir())
	mk := func(tag string) *Image {
		t.Helper()
		img := mkImage(t, "amd64", v1.Config{Cmd: []string{tag}}, base, layerOf(t, mkTar(t, file("own", tag))))
		got, err := s.Pull(ctx, reg.push(t, "test/"+tag+":1", img), PullOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	gone, kept := mk("gone"), mk("kept")
	layersOf := func(img *Image) []string {
		t.Helper()
		ls, err := s.Snapshots(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		return ls
	}
	var fills atomic.Int32
	fill := func(scratch string) (string, error) {
		fills.Add(1)
		l := filepath.Join(scratch, "layer")
		if err := os.MkdirAll(filepath.Join(l, "etc"), 0o755); err != nil {
			return "", err
		}
		return l, os.WriteFile(filepath.Join(l, "etc", "hosts"), nil, 0o644)
	}
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	for i := range dirs {
		wg.Go(func() {
			d, err := s.InitLayer(ctx, layersOf(gone), "points", fill)
			if err != nil {
				t.Error(err)
			}
			dirs[i] = d
		})
	}
	wg.Wait()
	if fills.Load() != 1 {
		t.Errorf("made %d times, want once", fills.Load())
	}
	for _, d := range dirs[1:] {
		if d != dirs[0] {
			t.Errorf("callers got %q and %q", dirs[0], d)
		}
	}
	if fi, err := os.Stat(filepath.Join(dirs[0], "etc", "hosts")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the layer lacks what fill made: %v", err)
	}
	other, err := s.InitLayer(ctx, layersOf(gone), "other points", fill)
	if err != nil || other == dirs[0] {
		t.Errorf("another key: %q, %v", other, err)
	}
	keptDir, err := s.InitLayer(ctx, layersOf(kept), "points", fill)
	if err != nil || keptDir == dirs[0] {
		t.Errorf("another image: %q, %v", keptDir, err)
	}
	boom := errors.New("boom")
	if _, err := s.InitLayer(ctx, layersOf(kept), "failing", func(string) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("failed fill: %v", err)
	}
	if _, err := s.InitLayer(ctx, []string{t.TempDir()}, "points", fill); err == nil {
		t.Error("an init layer over a directory that is no snapshot of the store")
	}
	assertEmptyDir(t, s.path("tmp"))

	if err := s.Untag(gone.Ref, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Collect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dirs[0], other} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("init layer %s of a removed image left: %v", d, err)
		}
		if _, err := os.Stat(s.path("locks", "initlayer-"+filepath.Base(d)+".lock")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("lock of init layer %s left: %v", d, err)
		}
	}
	if !isDir(keptDir) {
		t.Error("the init layer of a kept image was removed")
	}
	// An image a container uses keeps its init layer without a reference.
	if err := s.Untag(kept.Ref, kept.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Collect(ctx, map[string]bool{kept.ID: true}); err != nil {
		t.Fatal(err)
	}
	if !isDir(keptDir) {
		t.Error("the init layer of an image in use was removed")
	}
	if _, err := s.Collect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(s.path("initlayers")); len(ents) != 0 {
		t.Errorf("init layers left after every image went: %v", ents)
	}
}
