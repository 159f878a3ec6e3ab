package kube

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// DryRun server-side applies each desired object as a dry run and
// returns what the server would store, by Ref: it validates and defaults
// every object, and reports a conflict with another field manager unless
// force.
func (c *Cluster) DryRun(ctx context.Context, desired []Object, force bool) (map[string]Object, error) {
	results := make([]Object, len(desired))
	errs := make([]error, len(desired))
	var g errgroup.Group
	g.SetLimit(dryRunParallel)
	for i, d := range desired {
		g.Go(func() error {
			results[i], errs[i] = c.apply(ctx, d, true, force)
			errs[i] = conflictHint(errs[i])
			return nil
		})
	}
	_ = g.Wait()
	out := map[string]Object{}
	for i, d := range desired {
		if errs[i] == nil {
			out[d.Ref()] = results[i]
		}
	}
	return out, errors.Join(errs...)
}

// dryRunParallel is how many dry runs are in flight at once.
const dryRunParallel = 8

// Apply carries out a plan: it makes no decision. Each event is reported
// to progress as it is done.
func (c *Cluster) Apply(ctx context.Context, p Plan, force bool, progress func(Change)) error {
	for _, ch := range p.Changes {
		var err error
		switch ch.Action {
		case Create, Update:
			_, err = c.apply(ctx, ch.Object, false, force)
			err = conflictHint(err)
		case Delete:
			err = c.remove(ctx, ch.Object)
		default:
			err = fmt.Errorf("unknown action %q", ch.Action)
		}
		if err != nil {
			return err
		}
		if progress != nil {
			progress(ch)
		}
	}
	return nil
}

// conflictHint adds how to resolve a conflict to its error.
func conflictHint(err error) error {
	if err != nil && IsConflict(err) {
		return fmt.Errorf("%w (another field manager owns these fields: --force-conflicts takes them)", err)
	}
	return err
}
