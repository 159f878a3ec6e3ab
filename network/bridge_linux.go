package network

import (
	"errors"
	"fmt"
	"github.com/berth-dev/berth/internal/phase"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// loopback is 127.0.0.0/8, loopback6 ::1.
var (
	loopback  = netip.MustParsePrefix("127.0.0.0/8")
	loopback6 = netip.IPv6Loopback()
)

// EnsureBridge makes b exist as described, creating what is missing: the
// bridge link, its gateway address (other IPv4 addresses are removed), up;
// net.ipv4.ip_forward=1 and route_localnet=1 on the bridge (so published
// ports answer on 127.0.0.1); and b's nft rules, replaced in one
// transaction. In berth's family ip table:
//
//	guard:       iifname BR ip daddr 127.0.0.0/8 drop        (route_localnet must not expose host loopback services)
//	postrouting: ip saddr SUBNET oifname != BR masquerade    (egress; not for Internal)
//	             ip saddr 127.0.0.0/8 oifname BR masquerade  (published ports reached via 127.0.0.1)
//	             ip saddr SUBNET oifname BR ct status dnat masquerade (hairpin: a container reaching a published port)
//	forward:     iifname BR oifname OTHER ct status & dnat == 0 drop, and back (for every other berth bridge)
//	             iifname BR accept; oifname BR accept        (Internal: iifname BR oifname != BR drop, and back)
//
// If b is dual stack (Subnet6 set), also: Gateway6 on the bridge (no
// duplicate address detection; other global IPv6 addresses are removed,
// link-local ones kept), net.ipv6.conf.all.forwarding=1 and
// disable_ipv6=0 on the bridge, and the same rules with SUBNET6 in
// berth's family ip6 table, except the guard and the loopback
// masquerade: route_localnet has no IPv6 counterpart, so published
// ports do not answer on ::1 (see PublishPorts). The IPv6 isolation
// rules cover the other dual-stack bridges; a bridge without IPv6 has no
// routed IPv6 address to reach. A bridge that is not dual stack loses
// its IPv6 rules and global IPv6 addresses.
//
// If the host's iptables-nft `ip filter` table has a FORWARD chain with
// policy drop (Docker sets it), accept rules for b are added there in the
// same transaction, tagged; see foreignTable for which ones. The ip6
// filter table (Docker's ip6tables) is not handled.
//
// Calling it again with the same b changes nothing.
func (h *Host) EnsureBridge(b Bridge) error {
	if err := b.validate(); err != nil {
		return err
	}
	return h.locked(func() error { return h.ensureBridgeLocked(b) })
}

// ensureBridgeLocked is EnsureBridge under the host lock.
func (h *Host) ensureBridgeLocked(b Bridge) error {
	if err := h.ensureBridge(b); err != nil {
		return fmt.Errorf("ensuring bridge %s: %w", b.Name, err)
	}
	defer phase.Start(b.Name, "bridge.rules")()
	return h.updateLocked("ensuring bridge "+b.Name, true, func(x *txn) error {
		tag := bridgeTag(b.Name)
		if err := x.deleteTagged(tag); err != nil {
			return err
		}
		bridgeRules(x.ip, tag, b, b.Subnet, x.bridges(nftables.TableFamilyIPv4))
		if b.Subnet6.IsValid() {
			bridgeRules(x.v6(), tag, b, b.Subnet6, x.bridges(nftables.TableFamilyIPv6))
		}
		return x.allowInForeignForward(h.foreignBridgeTag(b.Name), b)
	})
}

// ensureBridge converges b's link, addresses and sysctls.
func (h *Host) ensureBridge(b Bridge) error {
	end := phase.Start(b.Name, "bridge.link")
	link, err := ensureBridgeLink(b)
	end()
	if err != nil {
		return err
	}
	defer phase.Start(b.Name, "bridge.sysctls")()
	if err := h.setSysctl("net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	if err := h.setSysctl("net/ipv4/conf/"+b.Name+"/route_localnet", "1"); err != nil {
		return err
	}
	var gw6 netip.Prefix
	if b.Subnet6.IsValid() {
		if err := h.setSysctl("net/ipv6/conf/all/forwarding", "1"); err != nil {
			return err
		}
		if err := h.setSysctl("net/ipv6/conf/"+b.Name+"/disable_ipv6", "0"); err != nil {
			return err
		}
		gw6 = netip.PrefixFrom(b.Gateway6, b.Subnet6.Bits())
	}
	return ensureOnlyAddr(link, netlink.FAMILY_V6, gw6)
}

// bridgeRules queues b's rules (see EnsureBridge) in t, a table of
// subnet's family; others are the bridges with rules in t.
func bridgeRules(t *nfTable, tag string, b Bridge, subnet netip.Prefix, others []string) {
	subnet = subnet.Masked()
	v4 := subnet.Addr().Is4()
	if v4 {
		t.add(chainGuard, tag, iif(b.Name), ipPrefix(offDaddr, loopback), drop())
	}
	if !b.Internal {
		t.add(chainPostrouting, tag, ipPrefix(offSaddr, subnet), notOif(b.Name), masquerade())
	}
	if v4 {
		t.add(chainPostrouting, tag, ipPrefix(offSaddr, loopback), oif(b.Name), masquerade())
	}
	t.add(chainPostrouting, tag, ipPrefix(offSaddr, subnet), oif(b.Name), ctDNAT(), masquerade())
	// Networks are isolated from each other, as Docker's are: nothing
	// is forwarded between two berth bridges except connections to a
	// published port (DNAT), which every network may use.
	for _, other := range others {
		if other != b.Name {
			t.insert(chainForward, tag, iif(b.Name), oif(other), notCtDNAT(), drop())
			t.insert(chainForward, tag, iif(other), oif(b.Name), notCtDNAT(), drop())
		}
	}
	if b.Internal {
		t.insert(chainForward, tag, iif(b.Name), notOif(b.Name), drop())
		t.insert(chainForward, tag, oif(b.Name), notIif(b.Name), drop())
	} else {
		t.add(chainForward, tag, iif(b.Name), accept())
		t.add(chainForward, tag, oif(b.Name), accept())
	}
}

// ensureBridgeLink creates the bridge link if missing and converges its
// MTU, IPv4 address and state.
func ensureBridgeLink(b Bridge) (*netlink.Bridge, error) {
	link, err := bridgeLink(b.Name)
	if err != nil {
		return nil, err
	}
	if link == nil {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = b.Name
		attrs.MTU = b.MTU
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil && !errors.Is(err, errExist) {
			return nil, fmt.Errorf("creating link: %w", err)
		}
		if link, err = bridgeLink(b.Name); err != nil {
			return nil, err
		}
		if link == nil {
			return nil, fmt.Errorf("bridge vanished right after creation")
		}
	}
	if b.MTU > 0 && link.Attrs().MTU != b.MTU {
		if err := netlink.LinkSetMTU(link, b.MTU); err != nil {
			return nil, fmt.Errorf("setting mtu %d: %w", b.MTU, err)
		}
	}
	if err := ensureOnlyAddr(link, netlink.FAMILY_V4, netip.PrefixFrom(b.Gateway, b.Subnet.Bits())); err != nil {
		return nil, err
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("setting link up: %w", err)
	}
	return link, nil
}

// ensureOnlyAddr makes want the only address of family (FAMILY_V4 or
// FAMILY_V6) on link; an invalid want removes them all. IPv6 link-local
// addresses are left alone, and IPv6 addresses are added without
// duplicate address detection, usable at once: berth owns the subnet.
func ensureOnlyAddr(link netlink.Link, family int, want netip.Prefix) error {
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(link, family) })
	if err != nil {
		return fmt.Errorf("listing addresses: %w", err)
	}
	have := false
	for _, a := range addrs {
		p, ok := ipNetPrefix(a.IPNet)
		if ok && p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
			continue
		}
		if ok && p == want {
			have = true
			continue
		}
		if err := netlink.AddrDel(link, &a); err != nil {
			return fmt.Errorf("removing stale address %v: %w", a.IPNet, err)
		}
	}
	if have || !want.IsValid() {
		return nil
	}
	if err := netlink.AddrAdd(link, newAddr(want)); err != nil && !errors.Is(err, errExist) {
		return fmt.Errorf("adding address %v: %w", want, err)
	}
	return nil
}

// RemoveBridge deletes b's nft rules, in berth's table and in the
// iptables filter FORWARD chain (in one transaction), and its link,
// after the container links left on it (sweepBridge, up to sweepGrace).
// What is already gone is not an error. Links of other names still
// enslaved to the bridge are left detached.
func (h *Host) RemoveBridge(b Bridge) error { return h.removeBridge(b, false) }

// RemoveLastBridge is RemoveBridge for what the caller believes is the
// host's last berth bridge: berth's tables (and its rules in the iptables
// filter FORWARD chain) go instead of only b's rules, in the transaction
// that runs while the link goes, as DeleteTable would after it. Whether
// it is the last is decided again in that transaction, under the host
// lock, from the kernel's rules: should they hold another bridge's or an
// owner's rules (another process's up made its network meanwhile), only
// b's rules go, as with RemoveBridge.
func (h *Host) RemoveLastBridge(b Bridge) error { return h.removeBridge(b, true) }

// sweepGrace is how long RemoveBridge waits for the kernel to delete the
// container links left on a bridge (see sweepBridge).
const sweepGrace = 250 * time.Millisecond

// removeBridge is RemoveBridge (RemoveLastBridge with table). The sweep,
// mostly waiting for the kernel's namespace clean-up, runs before the
// host lock is taken, so that no other berth's bridge or port change
// waits for it; only the rules and the link go under the lock.
func (h *Host) removeBridge(b Bridge, table bool) error {
	if err := h.sweepBridge(b.Name, sweepGrace); err != nil {
		return err
	}
	return h.locked(func() error { return h.removeBridgeLocked(b, table) })
}

// removeBridgeLocked is removeBridge after the sweep, under the host
// lock. The rules and the link go at the same time: the kernel's deletion
// of a bridge is mostly waiting (RCU grace periods and barriers), which
// the nft transaction need not queue behind. Should either fail, the
// other may be done; a second RemoveBridge finishes the work.
func (h *Host) removeBridgeLocked(b Bridge, table bool) error {
	linkDone := make(chan error, 1)
	go func() {
		defer phase.Start(b.Name, "bridge.link")()
		linkDone <- deleteBridgeLink(b.Name)
	}()
	end := phase.Start(b.Name, "bridge.rules")
	err := h.updateLocked("removing bridge "+b.Name, false, func(x *txn) error {
		if table && !h.holdsOthers(x, b.Name) {
			return h.queueTableDeletion(x)
		}
		if err := x.deleteTagged(bridgeTag(b.Name)); err != nil {
			return err
		}
		tag := h.foreignBridgeTag(b.Name)
		return x.deleteForeign(func(t string) bool { return t == tag })
	})
	end()
	if err := errors.Join(err, <-linkDone); err != nil {
		return err
	}
	if err := h.forgetInterfaceSysctls(b.Name); err != nil {
		return fmt.Errorf("removing bridge %s: %w", b.Name, err)
	}
	return nil
}

// holdsOthers reports whether berth's tables or the iptables filter
// FORWARD chain held, when x began, berth rules of anything but bridge
// name: another bridge's, an owner's (published ports). The base rule
// does not count.
func (h *Host) holdsOthers(x *txn, name string) bool {
	mine := bridgeTag(name)
	if slices.ContainsFunc(x.rules, func(r *nftables.Rule) bool {
		tag := ruleTag(r)
		return strings.HasPrefix(tag, "berth:") && tag != tagBase && tag != mine
	}) {
		return true
	}
	prefix, foreignMine := h.foreignTagPrefix(), h.foreignBridgeTag(name)
	return slices.ContainsFunc(x.fwd.rules, func(r *nftables.Rule) bool {
		tag := ruleTag(r)
		return strings.HasPrefix(tag, prefix) && tag != foreignMine
	})
}

// deleteBridgeLink deletes the bridge link called name; absence is not an
// error.
func deleteBridgeLink(name string) error {
	link, err := bridgeLink(name)
	if err != nil {
		return err
	}
	if link != nil {
		if err := netlink.LinkDel(link); err != nil && !isNotFound(err) {
			return fmt.Errorf("removing bridge %s: deleting link: %w", name, err)
		}
	}
	return nil
}

// BridgeExists reports whether a bridge link called name exists. An
// interface of that name that is not a bridge is an error (ErrNotBridge).
func (h *Host) BridgeExists(name string) (bool, error) {
	link, err := bridgeLink(name)
	return link != nil, err
}

// bridgeLink returns the bridge called name, nil if there is no such link.
func bridgeLink(name string) (*netlink.Bridge, error) {
	return bridgeLinkOn(&netlink.Handle{}, name) // a socket of its own
}

// bridgeLinkOn is bridgeLink through handle h.
func bridgeLinkOn(h *netlink.Handle, name string) (*netlink.Bridge, error) {
	link, err := h.LinkByName(name)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up link %s: %w", name, err)
	}
	br, ok := link.(*netlink.Bridge)
	if !ok {
		return nil, fmt.Errorf("link %s is a %s: %w", name, link.Type(), ErrNotBridge)
	}
	return br, nil
}

// newAddr is the netlink address p, without duplicate address detection
// if it is IPv6.
func newAddr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: prefixIPNet(p)}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

func prefixIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func ipNetPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}
