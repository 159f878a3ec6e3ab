package engine

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/berth-dev/berth/runtime"
)

// initLayered is cfg's layers with the init layer of its image and mount
// points on top: the mount points the image lacks (runtime.MountPoints),
// made once per image and set of points and shared read-only
// (image.Store.InitLayer, runtime.MakeInitLayer), so that no container's
// init makes them in its own layer. With no mount point to make (or none
// the image lacks), the layers are cfg's.
func (e *Engine) initLayered(ctx context.Context, cfg runtime.Config) ([]string, error) {
	points := runtime.MountPoints(cfg, srcIsDir)
	if len(points) == 0 {
		return cfg.Layers, nil
	}
	dir, err := e.Images.InitLayer(ctx, cfg.Layers, runtime.MountPointsKey(points), func(scratch string) (string, error) {
		return runtime.MakeInitLayer(cfg.Layers, scratch, points)
	})
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) == 0 {
		return cfg.Layers, nil // the image has every point: no layer to add
	}
	return append(slices.Clip(cfg.Layers), dir), nil
}

// srcIsDir reports whether a bind mount's source is a directory.
func srcIsDir(src string) (bool, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}
