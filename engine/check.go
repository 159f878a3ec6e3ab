package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
	"github.com/berth-dev/berth/volume"
)

// Check finds what would make plan fail half-way, before anything is
// touched: bind sources that are missing and may not be created, volume
// options that are wrong, config and secret files that cannot be read.
// It also refuses, as Docker does, what would take a container name, a
// host port or a bridge name that someone else holds (see conflicts).
// It reports every problem at once. A plan without actions touches
// nothing, so there is nothing to read for it.
func (e *Engine) Check(ctx context.Context, plan reconcile.Plan) error {
	if plan.Empty() {
		return nil
	}
	h, err := e.holdings(ctx)
	if err != nil {
		return fmt.Errorf("checking the plan: %w", err)
	}
	errs := conflicts(plan, h)
	for _, a := range plan.Actions {
		switch {
		case a.Kind == reconcile.CreateVolume && a.Volume != nil:
			o := volume.Options{Type: a.Volume.DriverOpts["type"], O: a.Volume.DriverOpts["o"], Device: a.Volume.DriverOpts["device"]}
			if err := o.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("volume %s: %w", a.Volume.Name, err))
			}
		case a.Container != nil:
			errs = append(errs, checkContainer(*a.Container)...)
			errs = append(errs, e.checkPorts(ctx, *a.Container)...)
		}
	}
	return errors.Join(errs...)
}

func checkContainer(c reconcile.ContainerSpec) []error {
	var errs []error
	for _, m := range c.Service.Mounts {
		if m.Type != spec.MountBind {
			continue
		}
		if _, err := os.Stat(m.Source); errors.Is(err, os.ErrNotExist) && !m.CreateHostPath {
			errs = append(errs, fmt.Errorf("service %q: bind source path does not exist: %s", c.Service.Name, m.Source))
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("service %q: bind source %s: %w", c.Service.Name, m.Source, err))
		}
	}
	for _, set := range []map[string]spec.FileSource{c.Configs, c.Secrets} {
		for key, src := range set {
			if src.File == "" {
				continue
			}
			if f, err := os.Open(src.File); err != nil {
				errs = append(errs, fmt.Errorf("service %q: %q: %w", c.Service.Name, key, err))
			} else {
				f.Close()
			}
		}
	}
	return errs
}

// checkPorts finds what Create would only find after a recreate had
// already removed the old container: ports published from an internal
// network. (An image with nothing to run is the planner's error.)
func (e *Engine) checkPorts(ctx context.Context, c reconcile.ContainerSpec) []error {
	var errs []error
	if len(c.Service.Ports) > 0 && c.Service.NetworkMode == "" {
		if keys := sortedNetworkKeys(c.Service); len(keys) > 0 {
			n := c.Networks[keys[0]]
			internal := n.Internal
			if rec, err := e.store.Network(ctx, n.Name); err == nil {
				internal = rec.Internal // what the bridge really is, whatever the file says now
			}
			if internal {
				errs = append(errs, fmt.Errorf("service %q: publishes ports, but its network %s is internal", c.Service.Name, n.Name))
			}
		}
	}
	return errs
}

// holdings reads what the host already holds for conflicts.
func (e *Engine) holdings(ctx context.Context) (holdings, error) {
	h := holdings{containers: map[string]store.Container{}, portHolder: network.PortHolder, linkHolder: network.LinkHolder}
	cs, err := e.store.Containers(ctx, "")
	if err != nil {
		return h, err
	}
	for _, c := range cs {
		h.containers[c.Name] = c
	}
	if h.ports, err = e.store.Ports(ctx, ""); err != nil {
		return h, err
	}
	h.networks, err = e.store.Networks(ctx, "")
	return h, err
}
