package network

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// RemoveBridge deletes the container links left on the bridge (here one
// whose namespace is still mounted, so the kernel keeps it) before the
// bridge, and only that bridge's rules (ip, ip6, and its accept rules in
// an iptables filter FORWARD chain that drops, as Docker leaves it);
// RemoveLastBridge takes berth's tables and its FORWARD rules with the
// last one.
func TestRemoveBridgeSweepsAndLastTakesTheTable(t *testing.T) {
	h := rootTest(t)
	dockerLikeForward(t)
	before := listFilter(t, h)
	b1, b2 := testBridge6(t, h), testBridge6(t, h)
	for _, b := range []Bridge{b1, b2} {
		if n := rules6Tagged(t, h, bridgeTag(b.Name)); n == 0 {
			t.Fatalf("no ip6 rules of %s to remove (nothing to prove)", b.Name)
		}
		if n := strings.Count(listFilter(t, h), h.foreignBridgeTag(b.Name)); n == 0 {
			t.Fatalf("no FORWARD rules of %s to remove (nothing to prove)", b.Name)
		}
	}
	_, l := testLink6(t, h, b1, 2)
	if !isVethName(l.HostVeth) {
		t.Fatalf("%s is not a veth name", l.HostVeth)
	}
	if err := h.RemoveBridge(b1); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(l.HostVeth); !isNotFound(err) {
		t.Errorf("link %s left on removed bridge %s: %v", l.HostVeth, b1.Name, err)
	}
	if ok, err := h.BridgeExists(b1.Name); ok || err != nil {
		t.Errorf("BridgeExists(%s) after RemoveBridge = %v, %v", b1.Name, ok, err)
	}
	if n := rulesTagged(t, h, bridgeTag(b1.Name)); n != 0 {
		t.Errorf("%d rules of %s left", n, b1.Name)
	}
	if n := rulesTagged(t, h, bridgeTag(b2.Name)); n == 0 {
		t.Errorf("the rules of %s went with %s", b2.Name, b1.Name)
	}
	if n := rules6Tagged(t, h, bridgeTag(b2.Name)); n == 0 {
		t.Errorf("the ip6 rules of %s went with %s", b2.Name, b1.Name)
	}
	fwd := listFilter(t, h)
	if n := strings.Count(fwd, h.foreignBridgeTag(b1.Name)); n != 0 {
		t.Errorf("%d FORWARD rules of %s left", n, b1.Name)
	}
	if n := strings.Count(fwd, h.foreignBridgeTag(b2.Name)); n == 0 {
		t.Errorf("the FORWARD rules of %s went with %s", b2.Name, b1.Name)
	}
	if err := h.RemoveLastBridge(b2); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.BridgeExists(b2.Name); ok || err != nil {
		t.Errorf("BridgeExists(%s) after RemoveLastBridge = %v, %v", b2.Name, ok, err)
	}
	for _, fam := range []string{"ip", "ip6"} {
		if out, err := exec.Command("nft", "list", "table", fam, h.Table()).CombinedOutput(); err == nil {
			t.Errorf("table %s %s left after RemoveLastBridge:\n%s", fam, h.Table(), out)
		}
	}
	if after := listFilter(t, h); after != before {
		t.Errorf("ip filter FORWARD not as before the bridges after RemoveLastBridge:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Nothing left: a second round changes nothing and fails on nothing.
	if err := h.RemoveLastBridge(b2); err != nil {
		t.Error(err)
	}
	if err := h.DeleteTable(); err != nil {
		t.Error(err)
	}
}

// bridgePorts asks the kernel for one bridge's ports: the other bridge's
// veth and the host's other links are not in it.
func TestBridgePortsListsOnlyTheBridgesPorts(t *testing.T) {
	h := rootTest(t)
	b1, b2 := testBridge(t, h), testBridge(t, h)
	_, l1 := testLink(t, h, b1, 2)
	_, _ = testLink(t, h, b2, 2)
	br, err := bridgeLink(b1.Name)
	if err != nil || br == nil {
		t.Fatalf("bridgeLink(%s) = %v, %v", b1.Name, br, err)
	}
	ports, err := bridgePorts(br.Index)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ports {
		names = append(names, p.Attrs().Name)
	}
	if len(names) != 1 || names[0] != l1.HostVeth {
		t.Errorf("bridgePorts(%s) = %v, want [%s]", b1.Name, names, l1.HostVeth)
	}
}

// RemoveLastBridge decides from the kernel's rules, under the host lock,
// whether the bridge is the last: a caller whose store knew of one bridge
// while another process made a second keeps the second's rules (and
// berth's table); the second, then really the last, takes the table.
func TestRemoveLastBridgeKeepsAnotherBridgesRules(t *testing.T) {
	h := rootTest(t)
	dockerLikeForward(t)
	b1, b2 := testBridge(t, h), testBridge(t, h)
	if err := h.RemoveLastBridge(b1); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(listFilter(t, h), h.foreignBridgeTag(b2.Name)); n == 0 {
		t.Errorf("the FORWARD rules of %s went with %s, removed as the last", b2.Name, b1.Name)
	}
	if n := rulesTagged(t, h, bridgeTag(b1.Name)); n != 0 {
		t.Errorf("%d rules of %s left", n, b1.Name)
	}
	if n := rulesTagged(t, h, bridgeTag(b2.Name)); n == 0 {
		t.Errorf("the rules of %s went with %s, removed as the last", b2.Name, b1.Name)
	}
	if n := rulesTagged(t, h, tagBase); n == 0 {
		t.Errorf("berth's base rule went with %s while %s is there", b1.Name, b2.Name)
	}
	if err := h.RemoveLastBridge(b2); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nft", "list", "table", "ip", h.Table()).CombinedOutput(); err == nil {
		t.Errorf("table ip %s left after the last bridge's removal:\n%s", h.Table(), out)
	}
}

// RemoveBridge sweeps the links left on the bridge without the host
// lock: the sweep, waiting here sweepGrace for a link whose namespace is
// still mounted, finishes while another holds the lock.
func TestRemoveBridgeSweepsWithoutTheHostLock(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	_, l := testLink(t, h, b, 2)
	removed := make(chan error, 1)
	var swept bool
	err := h.locked(func() error {
		go func() { removed <- h.RemoveBridge(b) }()
		for deadline := time.Now().Add(10 * sweepGrace); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, err := netlink.LinkByName(l.HostVeth); isNotFound(err) {
				swept = true
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	if !swept {
		t.Errorf("link %s on bridge %s not swept while another held the host lock", l.HostVeth, b.Name)
	}
	if ok, err := h.BridgeExists(b.Name); ok || err != nil {
		t.Errorf("BridgeExists(%s) after RemoveBridge = %v, %v", b.Name, ok, err)
	}
}

// DeleteStrayVeths deletes the container links on a bridge that the
// records (read after the links are listed) do not name, and only those.
func TestDeleteStrayVeths(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	_, kept := testLink(t, h, b, 2)
	_, stray := testLink(t, h, b, 3)
	err := h.DeleteStrayVeths(b.Name, func() (map[string]bool, error) {
		return map[string]bool{kept.HostVeth: true}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(stray.HostVeth); !isNotFound(err) {
		t.Errorf("stray link %s left on bridge %s: %v", stray.HostVeth, b.Name, err)
	}
	if links, err := h.Links(); err != nil || !links.VethOnBridge(kept.HostVeth, b.Name) {
		t.Errorf("recorded link %s deleted from bridge %s", kept.HostVeth, b.Name)
	}
	if err := h.DeleteStrayVeths("br-missing0000", nil); err != nil {
		t.Errorf("DeleteStrayVeths of a missing bridge: %v", err)
	}
}
