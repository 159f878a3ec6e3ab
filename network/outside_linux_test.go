package network

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// outside is a test netns standing for the world beyond the host: it is
// linked to the host by a plain veth pair (no bridge, nothing of berth's)
// on a /24 of its own, the host end at .1, the netns end at .2 with a
// default route via .1.
type outside struct {
	ns       string
	hostAddr netip.Addr // the host end's address, a local address of the host
	addr     netip.Addr // the netns end's address
}

func testOutside(t *testing.T) outside {
	t.Helper()
	ns := testNetNS(t)
	sub := testSubnet(t)
	o := outside{ns: ns, hostAddr: sub.Addr().Next(), addr: sub.Addr().Next().Next()}
	name := fmt.Sprintf("vo%011x", rand.Uint64()&0xfffffffffff)
	h, err := netns.GetFromPath(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "eth0", PeerNamespace: netlink.NsFd(h)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := deleteLink(netlink.LinkByName, netlink.LinkDel, name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	host, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(netlink.AddrAdd(host, &netlink.Addr{IPNet: prefixIPNet(netip.PrefixFrom(o.hostAddr, 24))}))
	must(netlink.LinkSetUp(host))
	in, err := netlink.NewHandleAt(h)
	must(err)
	defer in.Close()
	peer, err := in.LinkByName("eth0")
	must(err)
	must(in.AddrAdd(peer, &netlink.Addr{IPNet: prefixIPNet(netip.PrefixFrom(o.addr, 24))}))
	must(in.LinkSetUp(peer))
	must(in.RouteReplace(&netlink.Route{LinkIndex: peer.Attrs().Index, Gw: o.hostAddr.AsSlice()}))
	return o
}
