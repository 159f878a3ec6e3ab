package network

import (
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
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
	links, err := bridgeVeths(name)
	if err != nil {
		return fmt.Errorf("sweeping bridge %s: %w", name, err)
	}
	deadline := time.Now().Add(wait)
	for _, l := range links {
		// One deadline for all: the kernel deletes them together.
		if err := h.DetachAfter(Link{HostVeth: l.Attrs().Name}, time.Until(deadline)); err != nil {
			return fmt.Errorf("sweeping bridge %s: %w", name, err)
		}
	}
	return nil
}

// DeleteStrayVeths deletes the container links (veths named as VethName
// names them) on bridge name that recorded, called after they are listed,
// does not name: links whose container is gone, left by a removal cut
// short while a process outside berth held the namespace. A container
// records its links before it makes them, so a link listed before the
// records are read and missing from them is not being made; it is deleted
// by its index, never a link of the same name made since. A missing
// bridge is not an error.
func (h *Host) DeleteStrayVeths(name string, recorded func() (map[string]bool, error)) error {
	veths, err := bridgeVeths(name)
	if err != nil {
		return fmt.Errorf("deleting stray links on bridge %s: %w", name, err)
	}
	if len(veths) == 0 {
		return nil
	}
	want, err := recorded()
	if err != nil {
		return err
	}
	for _, l := range veths {
		if want[l.Attrs().Name] {
			continue
		}
		if err := netlink.LinkDel(l); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting stray link %s on bridge %s: %w", l.Attrs().Name, name, err)
		}
	}
	return nil
}

// bridgeVeths lists the container links (host veths named as VethName
// names them) on bridge name; none when the bridge is missing.
func bridgeVeths(name string) ([]netlink.Link, error) {
	br, err := bridgeLink(name)
	if err != nil || br == nil {
		return nil, err
	}
	ports, err := bridgePorts(br.Index)
	if err != nil {
		return nil, err
	}
	var veths []netlink.Link
	for _, l := range ports {
		if a := l.Attrs(); a.MasterIndex == br.Index && l.Type() == "veth" && isVethName(a.Name) {
			veths = append(veths, l)
		}
	}
	return veths, nil
}

// bridgePorts lists the links enslaved to the bridge of index master. The
// kernel is asked for those only (a link dump filtered by IFLA_MASTER),
// which keeps the dump short, and the dump is repeated while a concurrent
// change interrupts it: the kernel deleting other links (a down's veths,
// as their namespaces go) interrupts multi-message dumps.
func bridgePorts(master int) ([]netlink.Link, error) {
	links, err := retryDump(func() ([]netlink.Link, error) {
		req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
		req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
		req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(master))))
		msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
		if err != nil {
			return nil, err
		}
		out := make([]netlink.Link, 0, len(msgs))
		for _, m := range msgs {
			l, err := netlink.LinkDeserialize(nil, m)
			if err != nil {
				return nil, err
			}
			out = append(out, l)
		}
		return out, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	return links, nil
}
