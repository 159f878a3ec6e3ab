package network

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// servePeer listens on addr inside the netns at ns (the host if "") and
// answers every connection with the IP address it came from, until cleanup.
func servePeer(t *testing.T, ns, addr string) {
	t.Helper()
	var ln net.Listener
	listen := func() (err error) { ln, err = net.Listen("tcp", addr); return err }
	var err error
	if ns == "" {
		err = listen()
	} else {
		err = inNetNS(ns, listen)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ap := netip.MustParseAddrPort(c.RemoteAddr().String())
			c.Write([]byte(ap.Addr().Unmap().String()))
			c.Close()
		}
	}()
}

func at(a netip.Addr, port uint16) string {
	return net.JoinHostPort(a.String(), strconv.Itoa(int(port)))
}

// TestDualStackBridge: two namespaces on a dual-stack bridge talk over
// IPv6 (and still over IPv4); each has its IPv6 address and a default
// route via Gateway6, which reaches the gateway and, forwarded and
// masqueraded, a test netns beyond the host.
func TestDualStackBridge(t *testing.T) {
	h := rootTest(t)
	b := testBridge6(t, h)
	nsA, la := testLink6(t, h, b, 2)
	nsB, lb := testLink6(t, h, b, 3)
	serveTCP(t, nsA, at(la.Addr6.Addr(), 7001), "A over v6")
	serveTCP(t, nsA, at(la.Addr.Addr(), 7001), "A over v4")
	if got, err := readTCP(nsB, at(la.Addr6.Addr(), 7001)); err != nil || got != "A over v6" {
		t.Errorf("B dialing A over IPv6: %q, %v", got, err)
	}
	if got, err := readTCP(nsB, at(la.Addr.Addr(), 7001)); err != nil || got != "A over v4" {
		t.Errorf("B dialing A over IPv4: %q, %v", got, err)
	}
	checkAddr6AndRoute(t, nsB, lb)
	if routes, err := HostRoutes(); err != nil || !slices.Contains(routes, b.Subnet6) {
		t.Errorf("HostRoutes = %v, %v; missing the bridge's %v", routes, err, b.Subnet6)
	}

	// The gateway is the host: a host listener on Gateway6 sees B's address.
	gwPort := freeTestPort(t)
	servePeer(t, "", at(b.Gateway6, gwPort))
	if got, err := readTCP(nsB, at(b.Gateway6, gwPort)); err != nil || got != lb.Addr6.Addr().String() {
		t.Errorf("B dialing the gateway %v: %q, %v; want its own address", b.Gateway6, got, err)
	}
	// Beyond the host, through the default route: the outside sees the
	// host's address on its link (masquerade), not B's ULA address.
	o := testOutside6(t)
	servePeer(t, o.ns, at(o.addr6, 9090))
	if got, err := readTCP(nsB, at(o.addr6, 9090)); err != nil || got != o.hostAddr6.String() {
		t.Errorf("B dialing the outside netns %v: %q, %v; want the masqueraded %v", o.addr6, got, err, o.hostAddr6)
	}

	// Attach again: the pair is kept; with another Addr6 it is remade.
	before, err := netlink.LinkByName(lb.HostVeth)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Attach(nsB, lb); err != nil {
		t.Fatal(err)
	}
	if after, err := netlink.LinkByName(lb.HostVeth); err != nil || after.Attrs().Index != before.Attrs().Index {
		t.Errorf("a second Attach replaced a correct dual-stack veth: %v", err)
	}
	lb.Addr6 = netipPrefixNext(lb.Addr6)
	if err := h.Attach(nsB, lb); err != nil {
		t.Fatal(err)
	}
	checkAddr6AndRoute(t, nsB, lb)
}

// checkAddr6AndRoute asserts that l.IfName in ns has exactly l.Addr6 as
// its global IPv6 address and an IPv6 default route via Gateway6.
func checkAddr6AndRoute(t *testing.T, ns string, l Link) {
	t.Helper()
	nsh, err := netns.GetFromPath(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer nsh.Close()
	in, err := netlink.NewHandleAt(nsh)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	peer, err := in.LinkByName(l.IfName)
	if err != nil {
		t.Fatal(err)
	}
	var global []netip.Prefix
	as, err := in.AddrList(peer, netlink.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if p, ok := ipNetPrefix(a.IPNet); ok && !p.Addr().IsLinkLocalUnicast() {
			global = append(global, p)
		}
	}
	if len(global) != 1 || global[0] != l.Addr6 {
		t.Errorf("global IPv6 addresses of %s = %v, want only %v", l.IfName, global, l.Addr6)
	}
	routes, err := in.RouteList(peer, netlink.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	if !hasDefaultVia(routes, l.Bridge.Gateway6) {
		t.Errorf("no IPv6 default route via %v in %v", l.Bridge.Gateway6, routes)
	}
}

// TestPublishPorts6: an IPv6 mapping answers on the host's IPv6
// addresses, from the host and from a netns beyond it, beside the IPv4
// mapping of the same port; one on a single host IPv6 address answers
// there only; a container on another network reaches it through its own
// gateway, and the container itself through its gateway (hairpin).
func TestPublishPorts6(t *testing.T) {
	h := rootTest(t)
	b := testBridge6(t, h)
	ns, l := testLink6(t, h, b, 2)
	o := testOutside6(t)
	serveTCP(t, ns, at(l.Addr6.Addr(), 80), "v6")
	serveTCP(t, ns, at(l.Addr.Addr(), 80), "v4")
	serveTCP(t, ns, at(l.Addr6.Addr(), 81), "on-ip")
	every, onIP := freeTestPort(t), freeTestPort(t)
	m := []PortMapping{
		{HostPort: every, ContainerIP: l.Addr6.Addr(), ContainerPort: 80, Protocol: "tcp", Bridge: b.Name},
		{HostPort: every, ContainerIP: l.Addr.Addr(), ContainerPort: 80, Protocol: "tcp", Bridge: b.Name},
		{HostIP: o.hostAddr6, HostPort: onIP, ContainerIP: l.Addr6.Addr(), ContainerPort: 81, Protocol: "tcp", Bridge: b.Name},
	}
	if err := h.PublishPorts("six", m); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.UnpublishPorts("six") })

	if got, err := readTCP(o.ns, at(o.hostAddr6, every)); err != nil || got != "v6" {
		t.Errorf("from the outside netns to [%v]:%d: %q, %v", o.hostAddr6, every, got, err)
	}
	if got, err := readTCP(o.ns, at(o.hostAddr, every)); err != nil || got != "v4" {
		t.Errorf("from the outside netns to %v:%d: %q, %v", o.hostAddr, every, got, err)
	}
	targets := []netip.Addr{o.hostAddr6}
	if a, ok := hostAddr6(t); ok {
		targets = append(targets, a)
	} else {
		t.Log("the host has no IPv6 address of its own: only the test link's is tested from the host")
	}
	for _, a := range targets {
		if got, err := readTCP("", at(a, every)); err != nil || got != "v6" {
			t.Errorf("from the host to [%v]:%d: %q, %v", a, every, got, err)
		}
	}
	if got, err := readTCP("", at(netip.MustParseAddr("127.0.0.1"), every)); err != nil || got != "v4" {
		t.Errorf("from the host to 127.0.0.1:%d: %q, %v", every, got, err)
	}
	// ::1 cannot be DNATed (no route_localnet for IPv6): berth leaves it
	// alone, so nothing listening there means a refusal, not a hang.
	if got, err := readTCP("", at(netip.IPv6Loopback(), every)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("[::1]:%d: %q, %v; want connection refused", every, got, err)
	}
	if got, err := readTCP(o.ns, at(o.hostAddr6, onIP)); err != nil || got != "on-ip" {
		t.Errorf("on its host IP from the outside netns: %q, %v", got, err)
	}
	if got, err := readTCPWithin("", at(b.Gateway6, onIP), blockedTimeout); err == nil {
		t.Errorf("a port published on %v answered on %v: %q", o.hostAddr6, b.Gateway6, got)
	}

	b2 := testBridge6(t, h)
	ns2, _ := testLink6(t, h, b2, 2)
	if got, err := readTCP(ns2, at(b2.Gateway6, every)); err != nil || got != "v6" {
		t.Errorf("from another network through its gateway [%v]:%d: %q, %v", b2.Gateway6, every, got, err)
	}
	if got, err := readTCP(ns, at(b.Gateway6, every)); err != nil || got != "v6" {
		t.Errorf("hairpin from the container to [%v]:%d: %q, %v", b.Gateway6, every, got, err)
	}

	if err := h.UnpublishPorts("six"); err != nil {
		t.Fatal(err)
	}
	if got, err := readTCPWithin(o.ns, at(o.hostAddr6, every), blockedTimeout); err == nil {
		t.Errorf("[%v]:%d still answers after UnpublishPorts: %q", o.hostAddr6, every, got)
	}
}

// TestBridgesIsolated6 is TestBridgesIsolated over IPv6, and an Internal
// dual-stack network has no IPv6 egress while its members still talk.
func TestBridgesIsolated6(t *testing.T) {
	h := rootTest(t)
	outer := testBridge6(t, h)
	nsOuter, lOuter := testLink6(t, h, outer, 2)
	outerAddr := at(lOuter.Addr6.Addr(), 7002)
	serveTCP(t, nsOuter, outerAddr, "outer")
	other := testBridge6(t, h)
	nsOther, lOther := testLink6(t, h, other, 2)
	nsOther2, _ := testLink6(t, h, other, 3)
	otherAddr := at(lOther.Addr6.Addr(), 7002)
	serveTCP(t, nsOther, otherAddr, "other")
	o := testOutside6(t)
	serveTCP(t, o.ns, at(o.addr6, 9090), "outside")

	port := freeTestPort(t)
	if err := h.PublishPorts("outer6", []PortMapping{{HostPort: port, ContainerIP: lOuter.Addr6.Addr(), ContainerPort: 7002, Protocol: "tcp", Bridge: outer.Name}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.UnpublishPorts("outer6") })
	published := at(other.Gateway6, port)
	if got, err := readTCP(nsOther, published); err != nil || got != "outer" {
		t.Fatalf("control: another network's published port must answer over IPv6: %q, %v", got, err)
	}
	if got, err := readTCP(nsOther, at(o.addr6, 9090)); err != nil || got != "outside" {
		t.Fatalf("control: IPv6 egress must work before Internal: %q, %v", got, err)
	}
	if got, err := readTCPWithin(nsOther, outerAddr, blockedTimeout); err == nil {
		t.Errorf("a network reached another network's container directly over IPv6: %q", got)
	}
	if got, err := readTCPWithin(nsOuter, otherAddr, blockedTimeout); err == nil {
		t.Errorf("a network reached another network's container directly over IPv6: %q", got)
	}

	other.Internal = true
	if err := h.EnsureBridge(other); err != nil {
		t.Fatal(err)
	}
	if got, err := readTCPWithin(nsOther, at(o.addr6, 9090), blockedTimeout); err == nil {
		t.Errorf("an internal network reached the outside over IPv6: %q", got)
	}
	if got, err := readTCPWithin(nsOther, published, blockedTimeout); err == nil {
		t.Errorf("an internal network reached out through a published port over IPv6: %q", got)
	}
	if got, err := readTCPWithin(nsOuter, otherAddr, blockedTimeout); err == nil {
		t.Errorf("another network reached the internal network over IPv6: %q", got)
	}
	if got, err := readTCP(nsOther2, otherAddr); err != nil || got != "other" {
		t.Errorf("members of an internal network must still talk over IPv6: %q, %v", got, err)
	}
}

// TestDualStackTeardown: removing a dual-stack bridge takes its rules
// out of the ip6 table and forgets its IPv6 sysctls; making it IPv4-only
// drops its IPv6 address and rules; DeleteTable removes the ip6 table
// too, and foreign tables (inet of berth's name, another ip6 table) stay
// as they were. CheckLeaks (in rootTest) proves nothing else is left.
func TestDualStackTeardown(t *testing.T) {
	h := rootTest(t)
	foreign := []*nftables.Table{
		{Name: h.Table(), Family: nftables.TableFamilyINet},
		{Name: fmt.Sprintf("foreign6_t%08x", rand.Uint32()), Family: nftables.TableFamilyIPv6},
	}
	makeForeignTables(t, foreign)
	before := listTables(t, foreign)
	b := testBridge6(t, h)
	ns, l := testLink6(t, h, b, 2)
	if err := h.PublishPorts("td", []PortMapping{{HostPort: freeTestPort(t), ContainerIP: l.Addr6.Addr(), ContainerPort: 80, Protocol: "tcp"}}); err != nil {
		t.Fatal(err)
	}
	if n := rules6Tagged(t, h, bridgeTag(b.Name)); n == 0 {
		t.Fatal("a dual-stack bridge has no rules in the ip6 table")
	}
	v4 := b
	v4.Subnet6, v4.Gateway6 = netip.Prefix{}, netip.Addr{}
	if err := h.EnsureBridge(v4); err != nil {
		t.Fatal(err)
	}
	if n := rules6Tagged(t, h, bridgeTag(b.Name)); n != 0 {
		t.Errorf("%d ip6 rules left for a bridge made IPv4-only", n)
	}
	br, err := netlink.LinkByName(b.Name)
	if err != nil {
		t.Fatal(err)
	}
	as, _ := netlink.AddrList(br, netlink.FAMILY_V6)
	for _, a := range as {
		if !a.IP.IsLinkLocalUnicast() {
			t.Errorf("bridge made IPv4-only keeps %v", a.IPNet)
		}
	}
	if err := h.EnsureBridge(b); err != nil {
		t.Fatal(err)
	}
	if err := h.UnpublishPorts("td"); err != nil {
		t.Fatal(err)
	}
	if err := h.Detach(l); err != nil {
		t.Fatal(err)
	}
	_ = ns
	if err := h.RemoveBridge(b); err != nil {
		t.Fatal(err)
	}
	if n := rules6Tagged(t, h, bridgeTag(b.Name)); n != 0 {
		t.Errorf("%d ip6 rules left after RemoveBridge", n)
	}
	rec, err := h.Sysctls()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rec {
		if c.Key == dotted("net/ipv6/conf/"+b.Name+"/disable_ipv6") {
			t.Errorf("%s still recorded after RemoveBridge", c.Key)
		}
	}
	if err := h.DeleteTable(); err != nil {
		t.Fatal(err)
	}
	if after := listTables(t, foreign); after != before {
		t.Errorf("foreign tables changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, fam := range []string{"ip", "ip6"} {
		if out, err := exec.Command("nft", "list", "table", fam, h.Table()).CombinedOutput(); err == nil {
			t.Errorf("table %s %s still exists after DeleteTable:\n%s", fam, h.Table(), out)
		}
	}
}

// rules6Tagged counts h's rules tagged tag in its ip6 table.
func rules6Tagged(t *testing.T, h *Host, tag string) int {
	t.Helper()
	return countRules(t, h, func(r *nftables.Rule) bool { return r.Table.Family == nftables.TableFamilyIPv6 && ruleTag(r) == tag })
}
