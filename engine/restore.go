package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/phase"
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
	defer e.holdPeers()()
	if err := e.unplumb(ctx, c.Name, true, nil); err != nil {
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
	// A container made when its /etc files were on a tmpfs of their own
	// under the run root binds them from there until it is recreated:
	// that tmpfs comes back for them.
	dir := e.etcDir(c.Name)
	if e.bindsLegacyEtc(c.Name) {
		dir = e.legacyEtcDir(c.Name)
		if err := ensureTmpfs(dir, legacyEtcTmpfsOptions); err != nil {
			return fmt.Errorf("restoring %s: %w", c.Name, err)
		}
	}
	// The /etc files come last: Observe takes them for the sign that the
	// plumbing is whole, so a restore cut short before them is done again.
	if _, err := e.writeEtcIn(ctx, c, dir); err != nil {
		return fmt.Errorf("restoring %s: %w", c.Name, err)
	}
	return nil
}

// vethGrace is how long unplumb waits for the kernel to delete a removed
// namespace's veth pairs before it deletes them itself.
const vethGrace = 250 * time.Millisecond

// unplumb removes what container name has under the run root and in the
// kernel (port rules when it may have published some, links, network
// namespace, /etc and config files), keeping its records. Its links on
// the networks swept reports (see reconcile.SweptBy) are left to the
// kernel and to those networks' removal; swept nil waits for all of them.
func (e *Engine) unplumb(ctx context.Context, name string, published bool, swept func(network string) bool) error {
	var errs []error
	if published {
		end := phase.Start(name, "unplumb.ports")
		if err := e.net.UnpublishPorts(name); err != nil {
			errs = append(errs, err)
		}
		end()
	}
	// The namespace goes before the links: with it, the kernel deletes
	// the veth pairs of every container going at once in one batch.
	end := phase.Start(name, "unplumb.netns")
	if err := network.RemoveNetNS(e.netnsPath(name)); err != nil {
		errs = append(errs, err)
	}
	end()
	end = phase.Start(name, "unplumb.etc")
	if err := os.RemoveAll(e.etcDir(name)); err != nil {
		errs = append(errs, fmt.Errorf("removing the /etc files of %s: %w", name, err))
	}
	for _, dir := range []string{e.legacyEtcDir(name), e.filesDir(name)} {
		if err := removeTmpfs(dir); err != nil {
			errs = append(errs, err)
		}
	}
	end()
	end = phase.Start(name, "unplumb.links")
	eps, err := e.endpointsOf(ctx, name)
	if err != nil {
		errs = append(errs, err)
	}
	for _, ep := range eps {
		if swept != nil && swept(ep.Network) {
			continue // the kernel deletes it with the namespace; its network's removal makes sure
		}
		if err := e.net.DetachAfter(network.Link{HostVeth: e.vethName(name, ep.Network)}, vethGrace); err != nil {
			errs = append(errs, err)
		}
	}
	end()
	return errors.Join(errs...)
}

// legacyEtcTmpfsOptions are those the /etc tmpfs of a container had when
// berth kept its files there.
const legacyEtcTmpfsOptions = "size=1m,nr_inodes=64,mode=0755"

// bindsLegacyEtc reports whether container name's runtime configuration
// binds its /etc files from legacyEtcDir.
func (e *Engine) bindsLegacyEtc(name string) bool {
	cfg, err := e.runtime.Config(name)
	if err != nil {
		return false
	}
	if e.legacyEtcDir(name) == e.etcDir(name) {
		return false // one root for both: nothing is legacy
	}
	legacy := e.legacyEtcDir(name) + string(os.PathSeparator)
	for _, m := range cfg.Mounts {
		if strings.HasPrefix(m.Source, legacy) {
			return true
		}
	}
	return false
}
