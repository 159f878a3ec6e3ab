package engine

import (
	"context"

	"github.com/berth-dev/berth/runtime"
)

// AttachOptions say which of a container's streams an attach connects.
type AttachOptions = runtime.AttachOptions

// ErrDetached is Attach's error when the detach keys ended it.
var ErrDetached = runtime.ErrDetached

// Attach connects the caller's streams to container name's until its
// process ends, and returns its exit code.
func (e *Engine) Attach(ctx context.Context, name string, o AttachOptions) (int, error) {
	return e.runtime.Attach(ctx, name, o)
}
