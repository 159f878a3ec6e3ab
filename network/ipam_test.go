package network

import (
	"errors"
	"net/netip"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestPickSubnet(t *testing.T) {
	pool := prefixes("10.89.0.0/24", "10.89.1.0/24", "10.89.2.0/24")
	tests := []struct {
		name        string
		used, avoid []netip.Prefix
		want        string
	}{
		{"empty host", nil, nil, "10.89.0.0/24"},
		{"first used", prefixes("10.89.0.0/24"), nil, "10.89.1.0/24"},
		{"first avoided", nil, prefixes("10.89.0.0/24"), "10.89.1.0/24"},
		{"used and avoided", prefixes("10.89.0.0/24"), prefixes("10.89.1.0/24"), "10.89.2.0/24"},
		{"partial overlap with a smaller route", nil, prefixes("10.89.0.128/25"), "10.89.1.0/24"},
		{"overlap with a larger route", nil, prefixes("10.89.0.0/23"), "10.89.2.0/24"},
		{"unrelated routes ignored", prefixes("192.168.1.0/24"), prefixes("10.88.0.0/16", "10.90.0.0/16"), "10.89.0.0/24"},
		{"host address inside a pool entry", nil, prefixes("10.89.0.7/32"), "10.89.1.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PickSubnet(pool, tt.used, tt.avoid)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("PickSubnet = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestPickSubnetExhausted(t *testing.T) {
	pool := prefixes("10.89.0.0/24", "10.89.1.0/24")
	for _, tc := range []struct {
		name        string
		used, avoid []netip.Prefix
	}{
		{"all used", prefixes("10.89.0.0/24", "10.89.1.0/24"), nil},
		{"covered by one route", nil, prefixes("10.0.0.0/8")},
		{"default route given as avoid", nil, prefixes("0.0.0.0/0")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PickSubnet(pool, tc.used, tc.avoid)
			if !errors.Is(err, ErrExhausted) {
				t.Fatalf("PickSubnet = %v, %v; want ErrExhausted", got, err)
			}
		})
	}
	if _, err := PickSubnet(nil, nil, nil); !errors.Is(err, ErrExhausted) {
		t.Errorf("empty pool: err = %v, want ErrExhausted", err)
	}
}

func TestDefaultPool(t *testing.T) {
	pool := DefaultPool()
	if len(pool) != 256 {
		t.Fatalf("len = %d, want 256", len(pool))
	}
	parent := netip.MustParsePrefix("10.89.0.0/16")
	for i, p := range pool {
		if p.Bits() != 24 || !parent.Contains(p.Addr()) || p != p.Masked() {
			t.Errorf("pool[%d] = %v, want a /24 inside %v", i, p, parent)
		}
		if i > 0 && pool[i-1].Overlaps(p) {
			t.Errorf("pool[%d] %v overlaps pool[%d] %v", i-1, pool[i-1], i, p)
		}
	}
	if pool[0].String() != "10.89.0.0/24" || pool[255].String() != "10.89.255.0/24" {
		t.Errorf("pool runs %v .. %v", pool[0], pool[255])
	}
}

func TestPickAddress(t *testing.T) {
	tests := []struct {
		name, subnet, gw string
		used             []netip.Addr
		want             string
	}{
		{"first after gateway", "10.89.0.0/24", "10.89.0.1", nil, "10.89.0.2"},
		{"gateway not first", "10.89.0.0/24", "10.89.0.254", nil, "10.89.0.1"},
		{"skips used", "10.89.0.0/24", "10.89.0.1", addrs("10.89.0.2", "10.89.0.3"), "10.89.0.4"},
		{"fills a hole", "10.89.0.0/24", "10.89.0.1", addrs("10.89.0.2", "10.89.0.4"), "10.89.0.3"},
		{"unmasked subnet", "10.89.0.77/24", "10.89.0.1", nil, "10.89.0.2"},
		{"last before broadcast", "10.89.0.0/29", "10.89.0.1", addrs("10.89.0.2", "10.89.0.3", "10.89.0.4", "10.89.0.5"), "10.89.0.6"},
		{"/30 has one host beside the gateway", "10.89.0.0/30", "10.89.0.1", nil, "10.89.0.2"},
		{"ipv6 has no broadcast", "fd00::/126", "fd00::1", addrs("fd00::2"), "fd00::3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PickAddress(netip.MustParsePrefix(tt.subnet), netip.MustParseAddr(tt.gw), tt.used)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("PickAddress = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestPickAddressExhausted(t *testing.T) {
	for _, tc := range []struct {
		name, subnet, gw string
		used             []netip.Addr
	}{
		{"/29 full", "10.89.0.0/29", "10.89.0.1", addrs("10.89.0.2", "10.89.0.3", "10.89.0.4", "10.89.0.5", "10.89.0.6")},
		{"/30 full", "10.89.0.0/30", "10.89.0.1", addrs("10.89.0.2")},
		{"/31 never used (no room beside network and broadcast)", "10.89.0.0/31", "10.89.0.1", nil},
		{"/32", "10.89.0.5/32", "10.89.0.1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PickAddress(netip.MustParsePrefix(tc.subnet), netip.MustParseAddr(tc.gw), tc.used)
			if !errors.Is(err, ErrExhausted) {
				t.Fatalf("PickAddress = %v, %v; want ErrExhausted", got, err)
			}
		})
	}
}

func TestPickAddressInvalidSubnet(t *testing.T) {
	if _, err := PickAddress(netip.Prefix{}, netip.Addr{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

func TestNames(t *testing.T) {
	b := BridgeName("0123456789abcdef")
	if len(b) != 15 || b[:3] != "br-" {
		t.Errorf("BridgeName = %q, want br- and 12 hex digits", b)
	}
	if b != BridgeName("0123456789abcdef") || b == BridgeName("0123456789abcdeg") {
		t.Errorf("BridgeName is not a stable function of its input")
	}
	v := VethName("proj-web-1", "proj_default")
	if len(v) != 15 || v[:4] != "veth" {
		t.Errorf("VethName = %q, want veth and 11 hex digits", v)
	}
	if v == VethName("proj-web-1", "proj_back") || v == VethName("proj-web-2", "proj_default") {
		t.Errorf("VethName collides for different inputs")
	}
	// The separator keeps ("ab","c") and ("a","bc") apart.
	if VethName("ab", "c") == VethName("a", "bc") {
		t.Errorf("VethName ambiguous without separator")
	}
}

func TestMACFor(t *testing.T) {
	got := MACFor(netip.MustParseAddr("10.89.3.7")).String()
	if got != "02:42:0a:59:03:07" {
		t.Fatalf("MACFor = %s", got)
	}
}

func TestPickAddressIn(t *testing.T) {
	tests := []struct {
		name, subnet, ipRange, gw string
		used                      []netip.Addr
		want                      string
	}{
		{"zero range is the whole subnet", "10.89.0.0/24", "", "10.89.0.1", nil, "10.89.0.2"},
		{"range in the upper half", "10.89.0.0/24", "10.89.0.128/25", "10.89.0.1", nil, "10.89.0.128"},
		{"range skips used and gateway", "10.89.0.0/24", "10.89.0.16/28", "10.89.0.16", addrs("10.89.0.17"), "10.89.0.18"},
		{"range at the start skips the network address", "10.89.0.0/24", "10.89.0.0/28", "10.89.0.1", nil, "10.89.0.2"},
		{"unmasked range", "10.89.0.0/24", "10.89.0.200/29", "10.89.0.1", nil, "10.89.0.200"},
		{"range equal to subnet", "10.89.0.0/24", "10.89.0.0/24", "10.89.0.1", nil, "10.89.0.2"},
		{"ipv6 range", "fd00:1::/64", "fd00:1::100/120", "fd00:1::1", addrs("fd00:1::100"), "fd00:1::101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r netip.Prefix
			if tt.ipRange != "" {
				r = netip.MustParsePrefix(tt.ipRange)
			}
			got, err := PickAddressIn(netip.MustParsePrefix(tt.subnet), r, netip.MustParseAddr(tt.gw), tt.used)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("PickAddressIn = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestPickAddressInErrors(t *testing.T) {
	sub := netip.MustParsePrefix("10.89.0.0/24")
	gw := netip.MustParseAddr("10.89.0.1")
	for _, tc := range []struct {
		name, ipRange string
		used          []netip.Addr
		want          error
	}{
		{"range outside the subnet", "10.90.0.0/28", nil, ErrInvalid},
		{"range larger than the subnet", "10.89.0.0/23", nil, ErrInvalid},
		{"ipv6 range in an ipv4 subnet", "fd00::/120", nil, ErrInvalid},
		{"range ending at broadcast is full", "10.89.0.252/30", addrs("10.89.0.252", "10.89.0.253", "10.89.0.254"), ErrExhausted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PickAddressIn(sub, netip.MustParsePrefix(tc.ipRange), gw, tc.used)
			if !errors.Is(err, tc.want) {
				t.Fatalf("PickAddressIn = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
