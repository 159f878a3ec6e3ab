package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
)

// Restore makes again what stopped container c had under the run root,
// which a reboot empties: its network namespace joined to its networks
// at its recorded addresses, its /etc and config and secret files, its
// published ports (an ephemeral host port may change, as with Docker).
// Its record, writable layer, volumes and runtime configuration are kept.
// The config and secret files come from c's sources: for berth boot, the
// ones the container recorded (engine.RecordedProject), which the planner
// checked against the digests it recorded.
// Whatever an interrupted restore left is undone first.
func (e *Engine) Restore(ctx context.Context, c reconcile.ContainerSpec) error {
	if err := e.unplumb(ctx, c.Name); err != nil {
		return fmt.Errorf("restoring %s: %w", c.Name, err)
	}
	if _, err := e.attach(ctx, c); err != nil {
		return fmt.Errorf("restoring %s: %w", c.Name, err)
	}
	if _, err := e.fileRefs(c); err != nil {
		return fmt.Errorf("restoring %s: %w", c.Name, err)
	}
	if err := e.store.SetPorts(ctx, c.Name, nil); err != nil {
		return fmt.Errorf("restoring %s: %w", c.Name, err)
	}
	if err := e.publish(ctx, c); err != nil {
		return fmt.Errorf("restoring %s: %w", c.Name, err)
	}
	// The /etc files come last: Observe takes them for the sign that the
	// plumbing is whole, so a restore cut short before them is done again.
	if _, err := e.writeEtc(ctx, c); err != nil {
		return fmt.Errorf("restoring %s: %w", c.Name, err)
	}
	return nil
}

// unplumb removes what container name has under the run root and in the
// kernel (port rules, links, network namespace, /etc and config files),
// keeping its records.
func (e *Engine) unplumb(ctx context.Context, name string) error {
	var errs []error
	if err := e.net.UnpublishPorts(name); err != nil {
		errs = append(errs, err)
	}
	eps, err := e.endpointsOf(ctx, name)
	if err != nil {
		errs = append(errs, err)
	}
	for _, ep := range eps {
		if err := e.net.Detach(network.Link{HostVeth: e.vethName(name, ep.Network)}); err != nil {
			errs = append(errs, err)
		}
	}
	if err := network.RemoveNetNS(e.netnsPath(name)); err != nil {
		errs = append(errs, err)
	}
	for _, dir := range []string{e.etcDir(name), e.filesDir(name)} {
		if err := removeTmpfs(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
