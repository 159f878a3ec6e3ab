package network

import (
	"net"
	"os"
	"testing"

	"github.com/vishvananda/netlink"
)

func TestTwoNetNSOnOneBridge(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	nsA, la := testLink(t, h, b, 2)
	nsB, lb := testLink(t, h, b, 3)

	addrA := net.JoinHostPort(la.Addr.Addr().String(), "7001")
	serveTCP(t, nsA, addrA, "hello from A")
	got, err := readTCP(nsB, addrA)
	if err != nil || got != "hello from A" {
		t.Fatalf("B dialing A at %s: %q, %v", addrA, got, err)
	}
	// The gateway (the host side of the bridge) reaches A too.
	if got, err := readTCP("", addrA); err != nil || got != "hello from A" {
		t.Fatalf("host dialing A at %s: %q, %v", addrA, got, err)
	}

	// Teardown in the order berth uses; the cleanups then find nothing.
	for _, l := range []Link{la, lb} {
		if err := h.Detach(l); err != nil {
			t.Fatal(err)
		}
		if _, err := netlink.LinkByName(l.HostVeth); !isNotFound(err) {
			t.Errorf("veth %s still there after Detach: %v", l.HostVeth, err)
		}
	}
	for _, ns := range []string{nsA, nsB} {
		if err := RemoveNetNS(ns); err != nil {
			t.Fatal(err)
		}
		if NetNSExists(ns) {
			t.Errorf("netns %s still mounted", ns)
		}
		if _, err := os.Stat(ns); !os.IsNotExist(err) {
			t.Errorf("netns mount point %s still there: %v", ns, err)
		}
	}
	if err := h.RemoveBridge(b); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.BridgeExists(b.Name); ok || err != nil {
		t.Errorf("BridgeExists after RemoveBridge = %v, %v", ok, err)
	}
	if n := rulesTagged(t, h, bridgeTag(b.Name)); n != 0 {
		t.Errorf("%d nft rules of %s left after RemoveBridge", n, b.Name)
	}
	// Everything is idempotent: a second round of removal is fine.
	if err := h.Detach(la); err != nil {
		t.Error(err)
	}
	if err := RemoveNetNS(nsA); err != nil {
		t.Error(err)
	}
	if err := h.RemoveBridge(b); err != nil {
		t.Error(err)
	}
}

func TestCreateNetNSKeepsCallerNamespace(t *testing.T) {
	rootTest(t)
	before, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	ns := testNetNS(t)
	if err := CreateNetNS(ns); err != nil { // idempotent
		t.Fatal(err)
	}
	if !NetNSExists(ns) {
		t.Fatal("NetNSExists = false for a created netns")
	}
	after, _ := os.Readlink("/proc/thread-self/ns/net")
	self, _ := os.Readlink("/proc/self/ns/net")
	if after != before || self != before {
		t.Errorf("caller's netns changed: %s -> %s (process %s)", before, after, self)
	}
	// lo is up inside.
	if err := inNetNS(ns, func() error {
		lo, err := netlink.LinkByName("lo")
		if err == nil && lo.Attrs().Flags&net.FlagUp == 0 {
			t.Error("lo is down in the new netns")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if NetNSExists(t.TempDir()) {
		t.Error("NetNSExists = true for a plain directory")
	}
}

func TestIdempotent(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	tag := bridgeTag(b.Name)
	rules := rulesTagged(t, h, tag)
	base := rulesTagged(t, h, tagBase)
	if rules == 0 || base != 1 {
		t.Fatalf("after EnsureBridge: %d bridge rules, %d base rules", rules, base)
	}
	if err := h.EnsureBridge(b); err != nil {
		t.Fatal(err)
	}
	if got := rulesTagged(t, h, tag); got != rules {
		t.Errorf("second EnsureBridge: %d bridge rules, want %d", got, rules)
	}
	if got := rulesTagged(t, h, tagBase); got != 1 {
		t.Errorf("second EnsureBridge: %d base rules, want 1", got)
	}
	if n := countLinks(t, b.Name); n != 1 {
		t.Errorf("%d links named %s", n, b.Name)
	}

	ns, l := testLink(t, h, b, 2)
	first, err := netlink.LinkByName(l.HostVeth)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Attach(ns, l); err != nil {
		t.Fatal(err)
	}
	second, err := netlink.LinkByName(l.HostVeth)
	if err != nil {
		t.Fatal(err)
	}
	if first.Attrs().Index != second.Attrs().Index {
		t.Errorf("second Attach replaced a correct veth (index %d -> %d)", first.Attrs().Index, second.Attrs().Index)
	}
	checkNSLinks(t, ns, l)

	// A stale link (other address) is replaced, not kept.
	l.Addr = netipPrefixNext(l.Addr)
	if err := h.Attach(ns, l); err != nil {
		t.Fatal(err)
	}
	checkNSLinks(t, ns, l)
}

// checkNSLinks asserts that the netns has exactly lo and l.IfName, the
// latter with exactly l.Addr, and that the host has one l.HostVeth on the bridge.
func checkNSLinks(t *testing.T, ns string, l Link) {
	t.Helper()
	if n := countLinks(t, l.HostVeth); n != 1 {
		t.Errorf("%d host links named %s", n, l.HostVeth)
	}
	host, err := netlink.LinkByName(l.HostVeth)
	if err != nil {
		t.Fatal(err)
	}
	br, _ := netlink.LinkByName(l.Bridge.Name)
	if host.Attrs().MasterIndex != br.Attrs().Index {
		t.Errorf("%s not enslaved to %s", l.HostVeth, l.Bridge.Name)
	}
	err = inNetNS(ns, func() error {
		links, err := netlink.LinkList()
		if err != nil {
			return err
		}
		var names []string
		for _, k := range links {
			names = append(names, k.Attrs().Name)
		}
		if len(names) != 2 {
			t.Errorf("links in netns = %v, want lo and %s", names, l.IfName)
		}
		eth, err := netlink.LinkByName(l.IfName)
		if err != nil {
			return err
		}
		as, err := netlink.AddrList(eth, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		if len(as) != 1 || !containsAddr(as, l.Addr) {
			t.Errorf("addresses of %s = %v, want only %v", l.IfName, as, l.Addr)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func countLinks(t *testing.T, name string) int {
	t.Helper()
	links, err := retryDump(netlink.LinkList)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range links {
		if l.Attrs().Name == name {
			n++
		}
	}
	return n
}
