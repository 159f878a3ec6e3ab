package network

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// HostRoutes returns the IPv4 and IPv6 destinations this host already
// reaches directly: the prefixes of its routes in the main table (default
// routes excluded) and of its interface addresses. A new network's subnet
// must avoid them (see PickSubnet); each family only ever overlaps its
// own. Interrupted netlink dumps are retried.
func HostRoutes() ([]netip.Prefix, error) {
	routes, err := retryDump(func() ([]netlink.Route, error) { return netlink.RouteList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("listing host routes: %w", err)
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("listing host addresses: %w", err)
	}
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	add := func(p netip.Prefix, ok bool) {
		if p = p.Masked(); ok && p.Bits() > 0 && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, r := range routes {
		add(ipNetPrefix(r.Dst))
	}
	for _, a := range addrs {
		add(ipNetPrefix(a.IPNet))
	}
	return out, nil
}
