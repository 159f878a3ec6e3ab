package engine

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// UpdateLimits applies the limits of c's service to its container in
// place, as docker update does (running or not: a stopped one starts with
// them), and records them with it, so that the next plan finds it as
// wanted, with Docker's "update" event.
func (e *Engine) UpdateLimits(ctx context.Context, c reconcile.ContainerSpec) error {
	rec, err := e.store.Container(ctx, c.Name)
	if err != nil {
		return fmt.Errorf("updating limits of %s: %w", c.Name, err)
	}
	svc, err := spec.ParseCanonical(rec.Spec)
	if err != nil {
		return fmt.Errorf("updating limits of %s: reading its recorded spec: %w", c.Name, err)
	}
	if err := e.runtime.UpdateResources(ctx, c.Name, limits(c.Service.Resources)); err != nil {
		return err
	}
	svc.Resources = c.Service.Resources
	if err := e.store.SetSpec(ctx, c.Name, svc.Canonical()); err != nil {
		return err
	}
	e.event(ctx, c.Name, "update") // as docker update reports it
	return nil
}
