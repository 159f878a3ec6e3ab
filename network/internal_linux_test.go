package network

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
)

// TestBridgesIsolated: containers on two berth networks cannot reach each
// other directly, but can through a published port (the control that the
// path itself works); an Internal network loses that too, both ways.
func TestBridgesIsolated(t *testing.T) {
	h := rootTest(t)
	outer := testBridge(t, h)
	nsOuter, lOuter := testLink(t, h, outer, 2)
	outerAddr := net.JoinHostPort(lOuter.Addr.Addr().String(), "7002")
	serveTCP(t, nsOuter, outerAddr, "outer")

	other := testBridge(t, h)
	nsOther, lOther := testLink(t, h, other, 2)
	otherAddr := net.JoinHostPort(lOther.Addr.Addr().String(), "7002")
	serveTCP(t, nsOther, otherAddr, "other")

	port := freeTestPort(t)
	if err := h.PublishPorts("outer-owner", []PortMapping{{HostPort: port, ContainerIP: lOuter.Addr.Addr(), ContainerPort: 7002, Protocol: "tcp", Bridge: outer.Name}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.UnpublishPorts("outer-owner") })
	published := net.JoinHostPort(other.Gateway.String(), strconv.Itoa(int(port)))
	if got, err := readTCP(nsOther, published); err != nil || got != "outer" {
		t.Fatalf("control: another network's published port must answer: %q, %v", got, err)
	}
	if got, err := readTCPWithin(nsOther, outerAddr, blockedTimeout); err == nil {
		t.Errorf("a network reached another network's container directly: %q", got)
	}
	if got, err := readTCPWithin(nsOuter, otherAddr, blockedTimeout); err == nil {
		t.Errorf("a network reached another network's container directly: %q", got)
	}

	other.Internal = true
	if err := h.EnsureBridge(other); err != nil {
		t.Fatal(err)
	}
	if n := rulesTagged(t, h, bridgeTag(other.Name)); n == 0 {
		t.Fatal("internal bridge has no rules")
	}
	if got, err := readTCPWithin(nsOther, published, blockedTimeout); err == nil {
		t.Errorf("an internal network reached out through a published port: %q", got)
	}
	if got, err := readTCPWithin(nsOuter, otherAddr, blockedTimeout); err == nil {
		t.Errorf("another network reached the internal network: %q", got)
	}
}

// freeTestPort is a TCP port nothing on the host listens on now.
func freeTestPort(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(netip.MustParseAddrPort(l.Addr().String()).Port())
}
