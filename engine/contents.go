package engine

import (
	"context"

	"github.com/berth-dev/berth/reconcile"
)

// RecordContents records the digests of c's contents (reconcile.Contents)
// on its container, which mounts its watched binds anew at each start: a
// restart, not a new container, brings it their new content.
func (e *Engine) RecordContents(ctx context.Context, c reconcile.ContainerSpec) error {
	return e.store.SetLabel(ctx, c.Name, labelContents, reconcile.EncodeContents(reconcile.Contents(c)))
}
