package build

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/berth-dev/berth/image"
	berthrt "github.com/berth-dev/berth/runtime"
)

// workdir makes WORKDIR's directory when the stage's filesystem lacks
// it, owned by the stage's USER as BuildKit does; the step has a layer
// only then.
func (b *builder) workdir(ctx context.Context, r *stageResult, c *instructions.WorkdirCommand, text string) (bool, []string, error) {
	dir := strings.TrimPrefix(r.conf.cfg.WorkingDir, "/")
	key, err := stepKey(r.key, c, r.conf, r.scope(), "")
	if err != nil || dir == "" {
		if err == nil {
			return b.metaStep(r, c, text)
		}
		return false, nil, err
	}
	return b.fsStep(ctx, r, key, text, func() (*image.Layer, []string, error) {
		l, err := b.inContainer(ctx, r, berthrt.Config{Args: []string{"true"}}, func(cfg berthrt.Config) error {
			return b.inFilesystem(ctx, cfg, func(root string) error {
				dr, err := os.OpenRoot(root)
				if err != nil {
					return err
				}
				defer dr.Close()
				if fi, err := dr.Stat(dir); err == nil && fi.IsDir() {
					return nil
				}
				var id berthrt.Identity
				if user := r.conf.cfg.User; user != "" {
					if id, err = resolveUser(dr, user); err != nil {
						return fmt.Errorf("creating %s as %s: %w", r.conf.cfg.WorkingDir, user, err)
					}
				}
				if err := mkdirAllOwned(dr, dir, id.UID, id.GID); err != nil {
					return fmt.Errorf("creating %s: %w", r.conf.cfg.WorkingDir, err)
				}
				return nil
			})
		})
		return l, nil, err
	})
}
