package network

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// testSubnet6 returns a random ULA /64 (fdXX:...) outside berth's own
// pool6 that no host route or address overlaps.
func testSubnet6(t testing.TB) netip.Prefix {
	t.Helper()
	routes, err := HostRoutes()
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		var a [16]byte
		a[0] = 0xfd
		for i := 1; i < 8; i++ {
			a[i] = byte(rand.IntN(256))
		}
		p := netip.PrefixFrom(netip.AddrFrom16(a), 64)
		if p.Overlaps(pool6) {
			continue
		}
		if got, err := PickSubnet([]netip.Prefix{p}, nil, routes); err == nil {
			return got
		}
	}
	t.Fatal("no free ULA test subnet")
	return netip.Prefix{}
}

// testBridge6 makes a dual-stack bridge with a random name and subnets,
// removed at cleanup.
func testBridge6(t testing.TB, h *Host) Bridge {
	t.Helper()
	sub, sub6 := testSubnet(t), testSubnet6(t)
	return ensureTestBridge(t, h, Bridge{Name: BridgeName(fmt.Sprintf("test6-%x", rand.Uint64())), Subnet: sub, Gateway: sub.Addr().Next(),
		Subnet6: sub6, Gateway6: sub6.Addr().Next()})
}

// testLink6 is testLink on a dual-stack bridge: the link also gets host
// address number n of b.Subnet6 and an IPv6 default route.
func testLink6(t testing.TB, h *Host, b Bridge, n int) (string, Link) {
	t.Helper()
	ns := testNetNS(t)
	a, a6 := b.Subnet.Addr(), b.Subnet6.Addr()
	for range n {
		a, a6 = a.Next(), a6.Next()
	}
	l := Link{Bridge: b, HostVeth: VethName(ns, b.Name), IfName: "eth0", DefaultRoute: true,
		Addr: netip.PrefixFrom(a, b.Subnet.Bits()), Addr6: netip.PrefixFrom(a6, b.Subnet6.Bits())}
	t.Cleanup(func() {
		if err := h.Detach(l); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := h.Attach(ns, l); err != nil {
		t.Fatal(err)
	}
	return ns, l
}

// outside6 is outside (see testOutside) with IPv6 too: a ULA /64 of its
// own on the same veth pair, the host end at ::1 of it, the netns end at
// ::2 with an IPv6 default route via the host end.
type outside6 struct {
	outside
	hostAddr6 netip.Addr
	addr6     netip.Addr
}

func testOutside6(t *testing.T) outside6 {
	t.Helper()
	o := outside6{outside: testOutside(t)}
	sub := testSubnet6(t)
	o.hostAddr6, o.addr6 = sub.Addr().Next(), sub.Addr().Next().Next()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	nsh, err := netns.GetFromPath(o.ns)
	must(err)
	defer nsh.Close()
	in, err := netlink.NewHandleAt(nsh)
	must(err)
	defer in.Close()
	peer, err := in.LinkByName("eth0")
	must(err)
	host, err := netlink.LinkByIndex(peer.Attrs().ParentIndex) // the host end
	must(err)
	must(netlink.AddrAdd(host, newAddr(netip.PrefixFrom(o.hostAddr6, 64))))
	must(in.AddrAdd(peer, newAddr(netip.PrefixFrom(o.addr6, 64))))
	must(in.RouteReplace(&netlink.Route{LinkIndex: peer.Attrs().Index, Gw: o.hostAddr6.AsSlice()}))
	return o
}

// hostAddr6 returns a global-scope IPv6 address of a host interface that
// is not a bridge or a test link, or false if the host has none.
func hostAddr6(t testing.TB) (netip.Addr, bool) {
	t.Helper()
	as, err := retryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(nil, netlink.FAMILY_V6) })
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		p, ok := ipNetPrefix(a.IPNet)
		if !ok || a.Scope != int(netlink.SCOPE_UNIVERSE) || p.Addr().IsLoopback() || a.Flags&unix.IFA_F_TENTATIVE != 0 {
			continue
		}
		link, err := netlink.LinkByIndex(a.LinkIndex)
		if err != nil {
			continue
		}
		if name := link.Attrs().Name; strings.HasPrefix(name, "br-") || strings.HasPrefix(name, "vo") || strings.HasPrefix(name, "veth") {
			continue // a berth (or Docker) bridge, or another test's link
		}
		return p.Addr(), true
	}
	return netip.Addr{}, false
}
