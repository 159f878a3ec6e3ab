package network

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Attach connects the network namespace at nsPath to l.Bridge with a veth
// pair: the peer is created inside the namespace as l.IfName with l.Addr
// (and a default route via the gateway if l.DefaultRoute), the host end
// l.HostVeth is enslaved to the bridge; both are up. The bridge must exist.
// With l.Addr6, the peer also gets that IPv6 address (disable_ipv6=0 on
// it inside the namespace, no duplicate address detection) and, if
// l.DefaultRoute, an IPv6 default route via l.Bridge.Gateway6. Without
// it, IPv6 is off on the peer (disable_ipv6=1, as Docker has it since
// CVE-2024-32473): no link-local address, and none of the neighbour
// discovery and multicast listener traffic an address brings.
// An existing pair that already matches l is kept; one that does not
// (wrong bridge, address or peer) is deleted and made again.
func (h *Host) Attach(nsPath string, l Link) error {
	if err := l.validate(); err != nil {
		return err
	}
	n, err := openNetNSAt(nsPath)
	if err != nil {
		return err
	}
	defer n.Close()
	return attachTo(n, nsPath, l)
}

// CreateNetNSWith makes the network namespace at path as CreateNetNS does
// (one already mounted there is kept) and attaches it to each of links as
// Attach does. A namespace it has just made holds nothing to check or
// clear, so each link is one veth creation and its set-up, over one
// netlink socket on each side, made in the same visit of a thread to the
// new namespace as the namespace itself.
func (h *Host) CreateNetNSWith(path string, links []Link) error {
	for _, l := range links {
		if err := l.validate(); err != nil {
			return err
		}
	}
	// The host's sockets are opened here, before a thread enters the new
	// namespace and uses them there.
	if _, err := hostRoute(); err != nil {
		return err
	}
	if _, err := hostRouteConn(); err != nil {
		return err
	}
	n, err := makeNetNS(path, func(n *netNS) error {
		for _, l := range links {
			if err := attachTo(n, path, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	n.Close()
	return nil
}

// attachTo is Attach of the open namespace n, mounted at nsPath.
func attachTo(n *netNS, nsPath string, l Link) error {
	if err := attach(n, l); err != nil {
		return fmt.Errorf("attaching %s to %s (%s): %w", nsPath, l.Bridge.Name, l.HostVeth, err)
	}
	return nil
}

func attach(n *netNS, l Link) error {
	host, err := hostRoute()
	if err != nil {
		return err
	}
	br, err := bridgeLinkOn(host, l.Bridge.Name)
	if err != nil {
		return err
	}
	if br == nil {
		return fmt.Errorf("bridge %s does not exist", l.Bridge.Name)
	}
	if !n.fresh {
		ok, err := attached(host, n.in, br, l)
		if err != nil || ok {
			return err
		}
		// Stale or partial state: clear both names, then build afresh.
		if err := deleteLink(host.LinkByName, host.LinkDel, l.HostVeth); err != nil {
			return err
		}
		if err := deleteLink(n.in.LinkByName, n.in.LinkDel, l.IfName); err != nil {
			return err
		}
	}
	err = createVeth(host, n, br, l)
	if errors.Is(err, errExist) {
		// A host end left by an earlier attempt (a fresh namespace has no
		// peer: only the host name can be taken): made again.
		if err = deleteLink(host.LinkByName, host.LinkDel, l.HostVeth); err == nil {
			err = createVeth(host, n, br, l)
		}
	}
	if err != nil {
		_ = deleteLink(host.LinkByName, host.LinkDel, l.HostVeth)
	}
	return err
}

// attached reports whether l is already in place: the host veth is on the
// bridge, its peer is l.IfName in the namespace with l.Addr and the
// default route if asked for. It sets both ends up on the way.
func attached(hostNL, inNS *netlink.Handle, br *netlink.Bridge, l Link) (bool, error) {
	host, err := hostNL.LinkByName(l.HostVeth)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up %s: %w", l.HostVeth, err)
	}
	peer, err := inNS.LinkByName(l.IfName)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up %s in netns: %w", l.IfName, err)
	}
	if _, isVeth := host.(*netlink.Veth); !isVeth || host.Attrs().MasterIndex != br.Index ||
		host.Attrs().ParentIndex != peer.Attrs().Index || peer.Attrs().ParentIndex != host.Attrs().Index {
		return false, nil
	}
	if peer.Attrs().HardwareAddr.String() != l.mac().String() {
		return false, nil
	}
	for _, f := range []struct {
		family int
		addr   netip.Prefix
		gw     netip.Addr
	}{{netlink.FAMILY_V4, l.Addr, l.Bridge.Gateway}, {netlink.FAMILY_V6, l.Addr6, l.Bridge.Gateway6}} {
		if ok, err := addressed(inNS, peer, f.family, f.addr, l.DefaultRoute, f.gw); err != nil || !ok {
			return false, err
		}
	}
	if err := hostEndUp(hostNL, host, l); err != nil {
		return false, err
	}
	if err := inNS.LinkSetUp(peer); err != nil {
		return false, fmt.Errorf("setting %s up in netns: %w", l.IfName, err)
	}
	return true, nil
}

// addressed reports whether peer's addresses of family are just addr
// (none if addr is invalid; IPv6 link-local ones are not counted) and, if
// addr is valid and route is set, whether a default route via gw exists.
func addressed(inNS *netlink.Handle, peer netlink.Link, family int, addr netip.Prefix, route bool, gw netip.Addr) (bool, error) {
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return inNS.AddrList(peer, family) })
	if err != nil {
		return false, fmt.Errorf("listing addresses of %s in netns: %w", peer.Attrs().Name, err)
	}
	n := 0
	for _, a := range addrs {
		if p, ok := ipNetPrefix(a.IPNet); ok && !(p.Addr().Is6() && p.Addr().IsLinkLocalUnicast()) {
			n++
		}
	}
	if !addr.IsValid() {
		return n == 0, nil
	}
	if !containsAddr(addrs, addr) || (family == netlink.FAMILY_V6 && n != 1) {
		return false, nil
	}
	if !route {
		return true, nil
	}
	routes, err := retryDump(func() ([]netlink.Route, error) { return inNS.RouteList(peer, family) })
	if err != nil {
		return false, fmt.Errorf("listing routes in netns: %w", err)
	}
	return hasDefaultVia(routes, gw), nil
}

// createVeth makes the pair with its peer directly inside n (so the peer
// name never collides with a host interface), its MAC set and the host
// end up on the bridge, in one request (addVeth), then configures both
// ends: the host end through host, the peer through n's socket. When the
// calling thread is in n (a namespace just made), the peer starts with
// its IPv6 setting (peerIPv6).
func createVeth(host *netlink.Handle, n *netNS, br *netlink.Bridge, l Link) error {
	v := vethAdd{Name: l.HostVeth, PeerName: l.IfName, MTU: br.Attrs().MTU, Master: br.Index,
		PeerNS: int(n.ns), PeerMAC: l.mac(),
		// One queue each way on both ends, which is what the kernel
		// leaves a veth using anyway; asked for at creation, it spares
		// the kernel cutting the default one per CPU down to one, which
		// waits for an RCU grace period twice while holding the rtnl
		// lock that every other container's plumbing needs.
		NumTx: 1, NumRx: 1}
	restore, err := n.peerIPv6(l.Addr6.IsValid())
	if err != nil {
		return err
	}
	index, peerIndex, err := addVeth(v)
	if rerr := restore(); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("creating veth pair: %w", err)
	}
	var hostEnd netlink.Link = &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: l.HostVeth, Index: index}}
	if index == 0 { // no echo of the new link
		if hostEnd, err = host.LinkByName(l.HostVeth); err != nil {
			return fmt.Errorf("looking up new %s: %w", l.HostVeth, err)
		}
	}
	if err := host.LinkSetHairpin(hostEnd, true); err != nil {
		return fmt.Errorf("setting hairpin mode on %s: %w", l.HostVeth, err)
	}
	in := n.in
	var peer netlink.Link = &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: l.IfName, Index: peerIndex}}
	if peerIndex == 0 {
		if peer, err = in.LinkByName(l.IfName); err != nil {
			return fmt.Errorf("looking up new %s in netns: %w", l.IfName, err)
		}
	}
	if err := in.AddrAdd(peer, &netlink.Addr{IPNet: prefixIPNet(l.Addr)}); err != nil {
		return fmt.Errorf("adding address %v: %w", l.Addr, err)
	}
	if !n.here { // otherwise it took the namespace's default, set for it
		if err := n.ipv6Switch("net/ipv6/conf/"+l.IfName+"/disable_ipv6", l.Addr6.IsValid()); err != nil {
			return err // before it is up: with IPv6 off, it never starts
		}
	}
	if l.Addr6.IsValid() {
		if err := in.AddrAdd(peer, newAddr(l.Addr6)); err != nil {
			return fmt.Errorf("adding address %v: %w", l.Addr6, err)
		}
	}
	if err := in.LinkSetUp(peer); err != nil {
		return fmt.Errorf("setting %s up in netns: %w", l.IfName, err)
	}
	if l.DefaultRoute {
		route := &netlink.Route{LinkIndex: peer.Attrs().Index, Gw: l.Bridge.Gateway.AsSlice()}
		if err := in.RouteReplace(route); err != nil {
			return fmt.Errorf("adding default route via %v: %w", l.Bridge.Gateway, err)
		}
	}
	if l.DefaultRoute && l.Addr6.IsValid() {
		route := &netlink.Route{LinkIndex: peer.Attrs().Index, Gw: l.Bridge.Gateway6.AsSlice()}
		if err := in.RouteReplace(route); err != nil {
			return fmt.Errorf("adding default route via %v: %w", l.Bridge.Gateway6, err)
		}
	}
	return nil
}

// defaultDisableIPv6 is the namespace's default for the IPv6 setting of
// interfaces made in it.
const defaultDisableIPv6 = "net/ipv6/conf/default/disable_ipv6"

// disableIPv6 is the disable_ipv6 value for an interface with IPv6 or not.
func disableIPv6(v6 bool) string {
	if v6 {
		return "0"
	}
	return "1"
}

// ipv6Switch sets the disable_ipv6 file key in n to v6's value.
func (n *netNS) ipv6Switch(key string, v6 bool) error {
	return unlessNoIPv6(n.sysctl(key, disableIPv6(v6)), v6)
}

// unlessNoIPv6 is err, unless it says an IPv6 setting is missing and IPv6
// is not wanted: a kernel without IPv6 (booted with ipv6.disable=1, or
// built without it) has no such files, and an interface there is as one
// without IPv6 should be.
func unlessNoIPv6(err error, v6 bool) error {
	if !v6 && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// peerIPv6 makes a veth peer made next in n start with IPv6 on or off as
// v6 says, when the calling thread is in n: the namespace's default is
// set to that for the creation (restore puts it back), so that the peer
// needs no change of its own, which takes the rtnl lock. Elsewhere it does
// nothing; the peer's own setting is changed before it is up. The default
// is read, set and put back through one descriptor.
func (n *netNS) peerIPv6(v6 bool) (restore func() error, err error) {
	nothing := func() error { return nil }
	if !n.here {
		return nothing, nil
	}
	fd, err := unix.Open(filepath.Join("/proc/sys", defaultDisableIPv6), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if unlessNoIPv6(err, v6) == nil {
			return nothing, nil
		}
		return nil, fmt.Errorf("opening sysctl %s in netns: %w", dotted(defaultDisableIPv6), err)
	}
	var buf [16]byte
	k, err := unix.Pread(fd, buf[:], 0)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reading sysctl %s in netns: %w", dotted(defaultDisableIPv6), err)
	}
	was, want := strings.TrimSpace(string(buf[:k])), disableIPv6(v6)
	if was == want {
		unix.Close(fd)
		return nothing, nil
	}
	set := func(value string) error {
		if _, err := unix.Pwrite(fd, []byte(value), 0); err != nil {
			return fmt.Errorf("setting sysctl %s=%s in netns: %w", dotted(defaultDisableIPv6), value, err)
		}
		return nil
	}
	if err := set(want); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return func() error {
		defer unix.Close(fd)
		return set(was)
	}, nil
}

// hostEndUp turns on hairpin mode on the bridge port and sets it up.
// Hairpin lets a frame leave through the port it came in by, which a
// container reaching its own published port needs when br_netfilter
// (bridge-nf-call-iptables) handles the DNAT at bridge level.
func hostEndUp(h *netlink.Handle, host netlink.Link, l Link) error {
	if err := h.LinkSetHairpin(host, true); err != nil {
		return fmt.Errorf("setting hairpin mode on %s: %w", l.HostVeth, err)
	}
	if err := h.LinkSetUp(host); err != nil {
		return fmt.Errorf("setting %s up: %w", l.HostVeth, err)
	}
	return nil
}

// Detach deletes l's host veth, and with it the peer inside the
// namespace. A missing veth is not an error.
func (h *Host) Detach(l Link) error {
	if err := deleteLink(netlink.LinkByName, netlink.LinkDel, l.HostVeth); err != nil {
		return fmt.Errorf("detaching %s: %w", l.HostVeth, err)
	}
	return nil
}

// DetachAfter is Detach for links whose namespace has just been removed
// (RemoveNetNS) and whose container has stopped: the kernel then deletes
// the pair itself, with every other namespace going at that moment, in
// one batch, far cheaper than one deletion each. It waits up to wait for
// that, then deletes what is still there (the namespace is still held, by
// a process that shares it), so that when it returns the veth is gone
// either way. The kernel's report of the deletion ends each wait between
// two looks (see deletions).
func (h *Host) DetachAfter(l Link, wait time.Duration) error {
	host, err := hostRoute() // one socket for every look, not one each
	if err != nil {
		return err
	}
	deadline := time.Now().Add(wait)
	for delay := 500 * time.Microsecond; time.Now().Before(deadline); delay = min(2*delay, 8*time.Millisecond) {
		gone := deletions.watch(l.HostVeth) // before the look: no report in between is missed
		_, err := host.LinkByName(l.HostVeth)
		if isNotFound(err) {
			deletions.unwatch(l.HostVeth, gone)
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-gone:
		case <-t.C:
		}
		t.Stop()
		deletions.unwatch(l.HostVeth, gone)
	}
	return h.Detach(l)
}

// deleteLink deletes the link called name through the given lookup and
// delete functions (host or namespace handle); absence is not an error.
func deleteLink(byName func(string) (netlink.Link, error), del func(netlink.Link) error, name string) error {
	link, err := byName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up %s: %w", name, err)
	}
	if err := del(link); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting %s: %w", name, err)
	}
	return nil
}

func containsAddr(addrs []netlink.Addr, want netip.Prefix) bool {
	for _, a := range addrs {
		if p, ok := ipNetPrefix(a.IPNet); ok && p == want {
			return true
		}
	}
	return false
}

func hasDefaultVia(routes []netlink.Route, gw netip.Addr) bool {
	for _, r := range routes {
		isDefault := r.Dst == nil || (r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask))
		if isDefault && r.Gw.Equal(gw.AsSlice()) {
			return true
		}
	}
	return false
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}
