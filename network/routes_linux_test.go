package network

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func TestHostRoutes(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	routes, err := HostRoutes()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(routes, b.Subnet) {
		t.Errorf("HostRoutes = %v, missing the test bridge's %v", routes, b.Subnet)
	}
	if slices.Contains(routes, netip.MustParsePrefix("0.0.0.0/0")) {
		t.Errorf("HostRoutes includes the default route: %v", routes)
	}
	if !slices.Contains(routes, netip.MustParsePrefix("127.0.0.0/8")) {
		t.Errorf("HostRoutes = %v, missing loopback's 127.0.0.0/8", routes)
	}
	if _, err := PickSubnet([]netip.Prefix{b.Subnet}, nil, routes); !errors.Is(err, ErrExhausted) {
		t.Errorf("PickSubnet offered the bridge's own subnet: %v", err)
	}
}

func TestNotABridge(t *testing.T) {
	h := rootTest(t)
	if ok, err := h.BridgeExists("lo"); ok || !errors.Is(err, ErrNotBridge) {
		t.Errorf("BridgeExists(lo) = %v, %v; want ErrNotBridge", ok, err)
	}
	lo := Bridge{Name: "lo", Subnet: netip.MustParsePrefix("10.255.255.0/24"), Gateway: netip.MustParseAddr("10.255.255.1")}
	if err := h.EnsureBridge(lo); !errors.Is(err, ErrNotBridge) {
		t.Errorf("EnsureBridge(lo) = %v, want ErrNotBridge", err)
	}
	if err := h.RemoveBridge(lo); !errors.Is(err, ErrNotBridge) {
		t.Errorf("RemoveBridge(lo) = %v, want ErrNotBridge", err)
	}
	if ok, err := h.BridgeExists(BridgeName("never-made")); ok || err != nil {
		t.Errorf("BridgeExists(missing) = %v, %v", ok, err)
	}
	if err := h.EnsureBridge(Bridge{Name: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("EnsureBridge(invalid) = %v, want ErrInvalid", err)
	}
}
