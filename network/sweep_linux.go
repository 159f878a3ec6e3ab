package network

import (
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/phase"
)

// sweepBridge deletes the container links left on bridge name (host veths
// named as VethName names them), waiting up to wait in all for the kernel
// to delete them first, as DetachAfter does: a removal that let the
// network's removal wait for its links (their namespace unmounted, the
// kernel deleting them in one batch with every other namespace going)
// leaves them there, and so does a removal cut short meanwhile. It is for
// a bridge about to be deleted, whose containers are all removed. A
// missing bridge is not an error.
func (h *Host) sweepBridge(name string, wait time.Duration) error {
	defer phase.Start(name, "bridge.sweep")()
	host, err := hostRoute()
	if err != nil {
		return err
	}
	br, err := bridgeLinkOn(host, name)
	if err != nil || br == nil {
		return err
	}
	links, err := host.LinkList()
	if err != nil {
		return fmt.Errorf("sweeping bridge %s: listing links: %w", name, err)
	}
	deadline := time.Now().Add(wait)
	for _, l := range links {
		a := l.Attrs()
		if a.MasterIndex != br.Index || l.Type() != "veth" || !isVethName(a.Name) {
			continue
		}
		// One deadline for all: the kernel deletes them together.
		if err := h.DetachAfter(Link{HostVeth: a.Name}, time.Until(deadline)); err != nil {
			return fmt.Errorf("sweeping bridge %s: %w", name, err)
		}
	}
	return nil
}
