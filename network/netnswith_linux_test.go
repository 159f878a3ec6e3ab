package network

import (
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestCreateNetNSWith makes a namespace on two bridges in one call, with a
// stale host end of the first link's name in the way, and checks each
// link as Attach makes it: peer name, MAC, address, default route, host
// end on its bridge, up, in hairpin mode; lo up; the host reaches it. A
// second call on the existing namespace keeps the links as they are.
func TestCreateNetNSWith(t *testing.T) {
	h := rootTest(t)
	b1, b2 := testBridge(t, h), testBridge(t, h)
	ns := filepath.Join(t.TempDir(), "netns", "ns")
	l1 := Link{Bridge: b1, HostVeth: VethName(ns, b1.Name), IfName: "eth0", DefaultRoute: true,
		Addr: netip.PrefixFrom(b1.Gateway.Next(), b1.Subnet.Bits())}
	l2 := Link{Bridge: b2, HostVeth: VethName(ns, b2.Name), IfName: "eth1",
		Addr: netip.PrefixFrom(b2.Gateway.Next().Next(), b2.Subnet.Bits())}
	t.Cleanup(func() {
		for _, l := range []Link{l1, l2} {
			if err := h.Detach(l); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		if err := RemoveNetNS(ns); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	// A host end left by an earlier attempt holds l1's name.
	stale := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: l1.HostVeth}, PeerName: VethName(ns+"stale", b1.Name)}
	if err := netlink.LinkAdd(stale); err != nil {
		t.Fatal(err)
	}

	if err := h.CreateNetNSWith(ns, []Link{l1, l2}); err != nil {
		t.Fatal(err)
	}
	if n := countLinks(t, stale.PeerName); n != 0 {
		t.Errorf("the stale pair's peer is still there (%d)", n)
	}
	indexes := checkAttached(t, ns, l1, l2)
	addr := net.JoinHostPort(l1.Addr.Addr().String(), "7003")
	serveTCP(t, ns, addr, "hello")
	if got, err := readTCP("", addr); err != nil || got != "hello" {
		t.Fatalf("host dialing %s: %q, %v", addr, got, err)
	}

	if err := h.CreateNetNSWith(ns, []Link{l1, l2}); err != nil {
		t.Fatal(err)
	}
	if again := checkAttached(t, ns, l1, l2); !slices.Equal(again, indexes) {
		t.Errorf("a second call on the made namespace replaced its links: host ends %v, then %v", indexes, again)
	}
}

// checkAttached asserts that the namespace at ns holds lo (up) and each
// of links, as Attach makes them, and that nothing else is in it; it
// returns the indexes of the host ends.
func checkAttached(t *testing.T, ns string, links ...Link) []int {
	t.Helper()
	var indexes []int
	for _, l := range links {
		host, err := netlink.LinkByName(l.HostVeth)
		if err != nil {
			t.Fatal(err)
		}
		br, err := netlink.LinkByName(l.Bridge.Name)
		if err != nil {
			t.Fatal(err)
		}
		if host.Attrs().MasterIndex != br.Attrs().Index || host.Attrs().Flags&net.FlagUp == 0 || host.Attrs().MTU != br.Attrs().MTU {
			t.Errorf("%s: master %d (want %d), flags %v, MTU %d (want %d)", l.HostVeth,
				host.Attrs().MasterIndex, br.Attrs().Index, host.Attrs().Flags, host.Attrs().MTU, br.Attrs().MTU)
		}
		if pi, err := netlink.LinkGetProtinfo(host); err != nil || !pi.Hairpin {
			t.Errorf("%s: hairpin %v, %v", l.HostVeth, pi.Hairpin, err)
		}
		indexes = append(indexes, host.Attrs().Index)
	}
	err := inNetNS(ns, func() error {
		all, err := netlink.LinkList()
		if err != nil {
			return err
		}
		if len(all) != len(links)+1 {
			var names []string
			for _, k := range all {
				names = append(names, k.Attrs().Name)
			}
			t.Errorf("links in netns = %v, want lo and %d more", names, len(links))
		}
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		if lo.Attrs().Flags&net.FlagUp == 0 {
			t.Error("lo is down")
		}
		for _, l := range links {
			peer, err := netlink.LinkByName(l.IfName)
			if err != nil {
				return err
			}
			if peer.Attrs().Flags&net.FlagUp == 0 || peer.Attrs().HardwareAddr.String() != MACFor(l.Addr.Addr()).String() {
				t.Errorf("%s: flags %v, MAC %v (want %v)", l.IfName, peer.Attrs().Flags, peer.Attrs().HardwareAddr, MACFor(l.Addr.Addr()))
			}
			as, err := netlink.AddrList(peer, netlink.FAMILY_V4)
			if err != nil {
				return err
			}
			if len(as) != 1 || !containsAddr(as, l.Addr) {
				t.Errorf("addresses of %s = %v, want only %v", l.IfName, as, l.Addr)
			}
			routes, err := netlink.RouteList(peer, netlink.FAMILY_V4)
			if err != nil {
				return err
			}
			if hasDefaultVia(routes, l.Bridge.Gateway) != l.DefaultRoute {
				t.Errorf("%s: default route via %v is %v, want %v", l.IfName, l.Bridge.Gateway, !l.DefaultRoute, l.DefaultRoute)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return indexes
}
