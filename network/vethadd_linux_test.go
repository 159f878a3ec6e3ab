package network

import (
	"errors"
	"net"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestAddVethInOneRequest makes a pair with addVeth and checks what the
// one request did: the indexes it returns are those of the host end and
// of the peer in its namespace (the kernel's echo, which the address and
// route of the peer are set by), the host end is up on the bridge with
// the bridge's MTU, the peer has its name, MAC and MTU, and both have one
// queue each way. A second request for the same name fails with EEXIST
// (which attach takes for a stale host end).
func TestAddVethInOneRequest(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	ns := testNetNS(t)
	n, err := openNetNSAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	host, err := hostRoute()
	if err != nil {
		t.Fatal(err)
	}
	br, err := bridgeLinkOn(host, b.Name)
	if err != nil || br == nil {
		t.Fatalf("bridge %s: %v, %v", b.Name, br, err)
	}
	mac := net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0x00, 0x07}
	v := vethAdd{Name: VethName(ns, b.Name), PeerName: "eth3", MTU: br.MTU, Master: br.Index, PeerNS: int(n.ns),
		PeerMAC: mac, NumTx: 1, NumRx: 1}
	t.Cleanup(func() {
		if err := h.Detach(Link{HostVeth: v.Name}); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	index, peerIndex, err := addVeth(v)
	if err != nil {
		t.Fatal(err)
	}
	hostEnd, err := netlink.LinkByName(v.Name)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := n.in.LinkByName(v.PeerName)
	if err != nil {
		t.Fatal(err)
	}
	if index != hostEnd.Attrs().Index || peerIndex != peer.Attrs().Index {
		t.Errorf("addVeth says indexes %d and %d, the links have %d and %d", index, peerIndex, hostEnd.Attrs().Index, peer.Attrs().Index)
	}
	if a := hostEnd.Attrs(); a.MasterIndex != br.Index || a.Flags&net.FlagUp == 0 || a.MTU != br.MTU || a.NumTxQueues != 1 || a.NumRxQueues != 1 {
		t.Errorf("host end: master %d (want %d), flags %v, MTU %d (want %d), queues %d/%d", a.MasterIndex, br.Index, a.Flags, a.MTU, br.MTU, a.NumTxQueues, a.NumRxQueues)
	}
	if a := peer.Attrs(); a.HardwareAddr.String() != mac.String() || a.MTU != br.MTU || a.NumTxQueues != 1 || a.NumRxQueues != 1 {
		t.Errorf("peer: MAC %v (want %v), MTU %d, queues %d/%d", a.HardwareAddr, mac, a.MTU, a.NumTxQueues, a.NumRxQueues)
	}
	if _, _, err := addVeth(v); !errors.Is(err, unix.EEXIST) {
		t.Errorf("a second pair of the same name: %v, want EEXIST", err)
	}
}
