package network

import (
	"net"
	"testing"
)

// TestInternalBridge routes between two bridges' containers: allowed
// between ordinary networks (the control), dropped in both directions
// when one network is Internal.
func TestInternalBridge(t *testing.T) {
	h := rootTest(t)
	outer := testBridge(t, h)
	nsOuter, lOuter := testLink(t, h, outer, 2)
	outerAddr := net.JoinHostPort(lOuter.Addr.Addr().String(), "7002")
	serveTCP(t, nsOuter, outerAddr, "outer")

	other := testBridge(t, h)
	nsOther, lOther := testLink(t, h, other, 2)
	otherAddr := net.JoinHostPort(lOther.Addr.Addr().String(), "7002")
	serveTCP(t, nsOther, otherAddr, "other")
	if got, err := readTCP(nsOther, outerAddr); err != nil || got != "outer" {
		t.Fatalf("control: ordinary bridges do not route to each other: %q, %v", got, err)
	}

	other.Internal = true
	if err := h.EnsureBridge(other); err != nil {
		t.Fatal(err)
	}
	if n := rulesTagged(t, h, bridgeTag(other.Name)); n == 0 {
		t.Fatal("internal bridge has no rules")
	}
	if got, err := readTCPWithin(nsOther, outerAddr, blockedTimeout); err == nil {
		t.Errorf("internal network reached another network: %q", got)
	}
	if got, err := readTCPWithin(nsOuter, otherAddr, blockedTimeout); err == nil {
		t.Errorf("another network reached the internal network: %q", got)
	}
}
