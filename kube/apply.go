package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DryRuns are what server-side dry runs of the desired objects gave.
type DryRuns struct {
	Objects map[string]Object // by Ref: what the server would store
	// Replace are objects whose change the server refuses in place
	// (a Job's pod template is immutable), by Ref: the server's reason.
	Replace map[string]string
}

// DryRun server-side applies each desired object as a dry run: the
// server validates and defaults every object, and reports a conflict with
// another field manager unless force.
func (c *Cluster) DryRun(ctx context.Context, desired []Object, force bool) (DryRuns, error) {
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
	out := DryRuns{Objects: map[string]Object{}, Replace: map[string]string{}}
	for i, d := range desired {
		switch {
		case errs[i] == nil:
			out.Objects[d.Ref()] = results[i]
		case replaceable(d, errs[i]):
			out.Replace[d.Ref()] = "the change is to immutable fields"
			if d.GetKind() == kindJob {
				out.Replace[d.Ref()] = "its pod template is immutable"
			}
			errs[i] = nil
		}
	}
	return out, errors.Join(errs...)
}

// replaceable reports whether err refuses a change of d to immutable
// fields that deleting and creating d again makes: never a claim, whose
// data would go with it.
func replaceable(d Object, err error) bool {
	return d.GetKind() != "PersistentVolumeClaim" && apierrors.IsInvalid(errors.Unwrap(err)) &&
		strings.Contains(err.Error(), "immutable")
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
		case Replace:
			err = c.replace(ctx, ch.Object, force)
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

// replace deletes o and applies it again once the old one is gone.
func (c *Cluster) replace(ctx context.Context, o Object, force bool) error {
	live, err := c.dyn.Resource(o.Resource()).Namespace(c.Namespace).Get(ctx, o.GetName(), metav1.GetOptions{})
	if err == nil {
		if err := c.remove(ctx, Object{live}); err != nil {
			return err
		}
	} else if !notFound(err) {
		return fmt.Errorf("reading %s: %w", o.Ref(), err)
	}
	_, err = c.apply(ctx, o, false, force)
	return conflictHint(err)
}

// waitGone returns once o no longer exists (its finalizers are done).
func (c *Cluster) waitGone(ctx context.Context, o Object) error {
	for {
		_, err := c.dyn.Resource(o.Resource()).Namespace(c.Namespace).Get(ctx, o.GetName(), metav1.GetOptions{})
		if notFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("waiting for %s to be deleted: %w", o.Ref(), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to be deleted: %w", o.Ref(), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
