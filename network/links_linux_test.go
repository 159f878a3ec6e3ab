package network

import (
	"errors"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestLinksSnapshot checks the one-dump snapshot against what the kernel
// says link by link: a veth on its bridge, a veth moved off it, a missing
// bridge, and a link that is not a bridge.
func TestLinksSnapshot(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	_, l := testLink(t, h, b, 2)

	snap, err := h.Links()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := snap.Bridge(b.Name); !ok || err != nil {
		t.Errorf("Bridge(%s) = %v, %v; want true", b.Name, ok, err)
	}
	if ok, err := snap.Bridge(BridgeName("never-made")); ok || err != nil {
		t.Errorf("Bridge(missing) = %v, %v; want false, nil", ok, err)
	}
	if ok, err := snap.Bridge("lo"); ok || !errors.Is(err, ErrNotBridge) {
		t.Errorf("Bridge(lo) = %v, %v; want ErrNotBridge", ok, err)
	}
	if !snap.VethOnBridge(l.HostVeth, b.Name) {
		t.Errorf("VethOnBridge(%s, %s) = false for an attached veth", l.HostVeth, b.Name)
	}
	if snap.VethOnBridge("never-made0", b.Name) || snap.VethOnBridge(l.HostVeth, BridgeName("never-made")) {
		t.Error("VethOnBridge true for a missing veth or bridge")
	}

	// Detached from its bridge (as when the bridge was made again), the
	// veth shows as drift in the next snapshot, not in the old one.
	veth, err := netlink.LinkByName(l.HostVeth)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetNoMaster(veth); err != nil {
		t.Fatal(err)
	}
	again, err := h.Links()
	if err != nil {
		t.Fatal(err)
	}
	if again.VethOnBridge(l.HostVeth, b.Name) {
		t.Error("VethOnBridge true for a veth taken off its bridge")
	}
	if !snap.VethOnBridge(l.HostVeth, b.Name) {
		t.Error("a snapshot changed after it was taken")
	}
}
