package network

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// Links is a snapshot of the host's links from one netlink dump, so that
// an observer checks every container's veth and every bridge without a
// round trip to the kernel for each.
type Links struct {
	byName map[string]linkInfo
}

type linkInfo struct {
	index, master int
	bridge        bool
}

// Links dumps the host's links once (again while a concurrent change
// interrupts the dump: an incomplete one would report links gone).
func (h *Host) Links() (Links, error) {
	links, err := retryDump(netlink.LinkList)
	if err != nil {
		return Links{}, fmt.Errorf("listing links: %w", err)
	}
	l := Links{byName: make(map[string]linkInfo, len(links))}
	for _, link := range links {
		a := link.Attrs()
		_, bridge := link.(*netlink.Bridge)
		l.byName[a.Name] = linkInfo{index: a.Index, master: a.MasterIndex, bridge: bridge}
	}
	return l, nil
}

// Bridge reports whether bridge name exists; a link of that name that is
// not a bridge is ErrNotBridge, as for BridgeExists.
func (l Links) Bridge(name string) (bool, error) {
	li, ok := l.byName[name]
	if !ok {
		return false, nil
	}
	if !li.bridge {
		return false, fmt.Errorf("link %s is not a bridge: %w", name, ErrNotBridge)
	}
	return true, nil
}

// StrayVeths reports whether bridge has a port named as VethName names
// container links that is not in want.
func (l Links) StrayVeths(bridge string, want map[string]bool) bool {
	br, ok := l.byName[bridge]
	if !ok || !br.bridge {
		return false
	}
	for name, li := range l.byName {
		if li.master == br.index && isVethName(name) && !want[name] {
			return true
		}
	}
	return false
}

// VethOnBridge is VethOnBridge on the snapshot: whether host veth name
// exists and is a port of bridge.
func (l Links) VethOnBridge(name, bridge string) bool {
	veth, ok := l.byName[name]
	br, isBr := l.byName[bridge]
	return ok && isBr && br.bridge && veth.master == br.index
}
