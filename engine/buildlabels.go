package engine

import (
	"context"
	"fmt"
	"maps"

	"github.com/berth-dev/berth/image"
)

// relabel gives built image img the build section's labels over its own
// (Docker's --label): the same layers and history committed with the
// labels added, tagged ref, and the unlabelled entry dropped.
func (e *Engine) relabel(ctx context.Context, img *image.Image, labels map[string]string, ref string) (*image.Image, error) {
	release, err := e.Images.Hold(ctx) // no prune sweeps the layers between the two commits
	if err != nil {
		return nil, err
	}
	defer release()
	layers, err := e.Images.Layers(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("labelling %s: %w", ref, err)
	}
	history, err := e.Images.HistoryOf(img)
	if err != nil {
		return nil, fmt.Errorf("labelling %s: %w", ref, err)
	}
	cfg := img.Config
	cfg.Labels = maps.Clone(cfg.Labels)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	maps.Copy(cfg.Labels, labels)
	out, err := e.Images.Commit(ctx, layers, cfg, history, img.Created, ref)
	if err != nil {
		return nil, fmt.Errorf("labelling %s: %w", ref, err)
	}
	if out.ID != img.ID {
		if err := e.Images.Untag("", img.ID); err != nil {
			return nil, fmt.Errorf("labelling %s: %w", ref, err)
		}
	}
	return out, nil
}
