package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/berth-dev/berth/image"
	berthrt "github.com/berth-dev/berth/runtime"
)

// inContainer gives fn a fresh container over the stage's layers (cfg's
// ID and Layers are set here; fn creates or starts it), makes a layer of
// what fn changed in it, and removes the container whatever happens.
func (b *builder) inContainer(ctx context.Context, r *stageResult, cfg berthrt.Config, fn func(berthrt.Config) error) (*image.Layer, error) {
	var rnd [6]byte
	rand.Read(rnd[:])
	cfg.ID = "berth-build-" + hex.EncodeToString(rnd[:])
	cfg.Layers = r.lowerDirs()
	if len(cfg.Layers) == 0 {
		dir, err := b.emptyDir()
		if err != nil {
			return nil, err
		}
		cfg.Layers = []string{dir}
	}
	defer b.rt.Remove(context.WithoutCancel(ctx), cfg.ID)
	if err := fn(cfg); err != nil {
		return nil, err
	}
	var targets []string
	for _, m := range cfg.Mounts {
		targets = append(targets, m.Target)
	}
	removeStubs(b.rt.UpperDir(cfg.ID), cfg.Layers, targets)
	return b.commitUpper(ctx, b.rt.UpperDir(cfg.ID), cfg.Layers)
}

// tempDir is the build's temporary directory (heredoc files), removed
// when the build ends.
func (b *builder) tempDir() (string, error) {
	if b.tmp == "" {
		d, err := os.MkdirTemp("", "berth-build-")
		if err != nil {
			return "", fmt.Errorf("creating a temporary directory: %w", err)
		}
		b.tmp = d
	}
	return b.tmp, nil
}

// emptyDir is an empty directory standing for scratch's missing layers.
func (b *builder) emptyDir() (string, error) {
	tmp, err := b.tempDir()
	if err != nil {
		return "", err
	}
	d := path.Join(tmp, "scratch")
	if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("creating an empty layer: %w", err)
	}
	return d, nil
}

// commitUpper stores the changes in upper as a layer; nil when none.
func (b *builder) commitUpper(ctx context.Context, upper string, lower []string) (*image.Layer, error) {
	removeStubs(upper, lower, runtimeStubs)
	if !hasChanges(upper, lower) {
		return nil, nil
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := diffTar(pw, upper, lower) // and strips what the tar does not carry: upper becomes the snapshot
		pw.CloseWithError(err)
	}()
	l, err := b.store.AddLayerDir(ctx, pr, upper)
	pr.CloseWithError(fmt.Errorf("layer not stored"))
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// hasChanges reports whether upper holds anything but the runtime's
// empty mount points.
func hasChanges(upper string, lower []string) bool {
	des, err := os.ReadDir(upper)
	if err != nil {
		return true // let diffTar report it
	}
	for _, d := range des {
		p := path.Join(upper, d.Name())
		if !(d.IsDir() && runtimeMountPoints[d.Name()] && emptyDir(p) && !inLayers(lower, d.Name())) {
			return true
		}
	}
	return false
}

// inFilesystem creates container cfg (not started) and calls fn with its
// mounted root filesystem.
func (b *builder) inFilesystem(ctx context.Context, cfg berthrt.Config, fn func(root string) error) error {
	if err := b.rt.Create(cfg); err != nil {
		return err
	}
	return b.rt.InFilesystem(ctx, cfg.ID, fn)
}
