package reconcile

import (
	"context"
	"slices"
)

type sweptByKey struct{}

// withSweptBy is ctx for the Remove of a container whose links on the
// networks nets are waited for by those networks' removal (Action.SweptBy).
func withSweptBy(ctx context.Context, nets []string) context.Context {
	if len(nets) == 0 {
		return ctx
	}
	return context.WithValue(ctx, sweptByKey{}, nets)
}

// SweptBy reports whether the removal of a container in ctx may leave its
// link on network to the kernel without waiting for it: the network is
// removed later in the same plan, and its removal waits for the links
// still on it (and deletes what the kernel has not), so that one wait
// covers every container's instead of one wait each. A removal cut short
// before then leaves the links to the next removal of the network.
func SweptBy(ctx context.Context, network string) bool {
	nets, _ := ctx.Value(sweptByKey{}).([]string)
	return slices.Contains(nets, network)
}
