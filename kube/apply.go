package kube

import (
	"context"
	"errors"
	"fmt"
)

// DryRun server-side applies each desired object as a dry run and
// returns what the server would store, by Ref: it validates and defaults
// every object, and reports a conflict with another field manager unless
// force.
func (c *Cluster) DryRun(ctx context.Context, desired []Object, force bool) (map[string]Object, error) {
	out := map[string]Object{}
	var errs []error
	for _, d := range desired {
		o, err := c.apply(ctx, d, true, force)
		if err != nil {
			errs = append(errs, conflictHint(err))
			continue
		}
		out[d.Ref()] = o
	}
	return out, errors.Join(errs...)
}

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
