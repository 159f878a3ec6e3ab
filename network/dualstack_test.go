package network

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/nftables/expr"
)

func TestValidateDualStack(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	good := Bridge{Name: "br-0123456789ab", Subnet: p("10.89.0.0/24"), Gateway: a("10.89.0.1"),
		Subnet6: p("fd00:b3e7:5c2f::/64"), Gateway6: a("fd00:b3e7:5c2f::1")}
	if err := good.validate(); err != nil {
		t.Fatalf("valid dual-stack bridge: %v", err)
	}
	for name, mod := range map[string]func(*Bridge){
		"subnet6 without gateway6": func(b *Bridge) { b.Gateway6 = netip.Addr{} },
		"gateway6 without subnet6": func(b *Bridge) { b.Subnet6 = netip.Prefix{} },
		"ipv4 subnet6":             func(b *Bridge) { b.Subnet6, b.Gateway6 = p("10.1.0.0/24"), a("10.1.0.1") },
		"gateway6 outside":         func(b *Bridge) { b.Gateway6 = a("fd00:1::1") },
		"gateway6 network address": func(b *Bridge) { b.Gateway6 = a("fd00:b3e7:5c2f::") },
		"subnet6 of 127 bits":      func(b *Bridge) { b.Subnet6 = p("fd00:b3e7:5c2f::/127") },
	} {
		b := good
		mod(&b)
		if err := b.validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}

	l := Link{Bridge: good, HostVeth: "veth0123456789a", IfName: "eth0", Addr: p("10.89.0.2/24"), Addr6: p("fd00:b3e7:5c2f::2/64")}
	if err := l.validate(); err != nil {
		t.Fatalf("valid dual-stack link: %v", err)
	}
	for name, mod := range map[string]func(*Link){
		"addr6 on an ipv4 bridge": func(l *Link) { l.Bridge.Subnet6, l.Bridge.Gateway6 = netip.Prefix{}, netip.Addr{} },
		"addr6 outside subnet6":   func(l *Link) { l.Addr6 = p("fd00:1::2/64") },
		"addr6 with another len":  func(l *Link) { l.Addr6 = p("fd00:b3e7:5c2f::2/128") },
		"addr6 is the gateway6":   func(l *Link) { l.Addr6 = p("fd00:b3e7:5c2f::1/64") },
	} {
		l2 := l
		mod(&l2)
		if err := l2.validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	l.Addr6 = netip.Prefix{} // an IPv4-only link on a dual-stack bridge is fine
	if err := l.validate(); err != nil {
		t.Errorf("IPv4-only link on a dual-stack bridge: %v", err)
	}
}

func TestValidatePortMapping6(t *testing.T) {
	a := netip.MustParseAddr
	v6 := PortMapping{HostPort: 8080, ContainerIP: a("fd00:b3e7:5c2f::2"), ContainerPort: 80, Protocol: "tcp"}
	for _, host := range []string{"", "::", "0.0.0.0", "fd00::2"} {
		m := v6
		if host != "" {
			m.HostIP = a(host)
		}
		if err := m.validate(); err != nil {
			t.Errorf("v6 mapping on host ip %q: %v", host, err)
		}
	}
	for host, want := range map[string]error{"192.0.2.1": ErrInvalid, "::ffff:192.0.2.1": ErrInvalid, "::1": ErrIPv6Loopback} {
		m := v6
		m.HostIP = a(host)
		if err := m.validate(); !errors.Is(err, want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("v6 mapping on host ip %s: err = %v, want %v", host, err, want)
		}
	}
	v4 := v6
	v4.ContainerIP, v4.HostIP = a("10.89.0.2"), a("fd00::2")
	if err := v4.validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("v4 mapping on an IPv6 host ip: err = %v, want ErrInvalid", err)
	}
	v4.ContainerIP = a("::ffff:10.89.0.2")
	v4.HostIP = netip.Addr{}
	if err := v4.validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("mapping to a 4-in-6 container ip: err = %v, want ErrInvalid", err)
	}
}

// TestIPPrefix6 checks the IPv6 form of the address match: a 16-byte
// load at the ip6 header's offsets, masked to the prefix length.
func TestIPPrefix6(t *testing.T) {
	for _, tc := range []struct {
		f      addrField
		p      string
		offset uint32
		masked bool
	}{
		{offSaddr, "fd00:1:2:3::/64", 8, true},
		{offDaddr, "fd00::1/128", 24, false},
	} {
		e := ipPrefix(tc.f, netip.MustParsePrefix(tc.p))
		pl := e[0].(*expr.Payload)
		if pl.Offset != tc.offset || pl.Len != 16 {
			t.Errorf("%s: payload at %d len %d, want %d len 16", tc.p, pl.Offset, pl.Len, tc.offset)
		}
		if _, ok := e[1].(*expr.Bitwise); ok != tc.masked {
			t.Errorf("%s: masked = %v, want %v", tc.p, ok, tc.masked)
		}
		if cmp := e[len(e)-1].(*expr.Cmp); len(cmp.Data) != 16 || cmp.Op != expr.CmpOpEq {
			t.Errorf("%s: compares %d bytes with op %v", tc.p, len(cmp.Data), cmp.Op)
		}
	}
	if e := ipPrefix(offSaddr, netip.MustParsePrefix("10.0.0.0/8")); e[0].(*expr.Payload).Offset != 12 || e[0].(*expr.Payload).Len != 4 {
		t.Errorf("the IPv4 form changed: %+v", e[0])
	}
	if cmp := notIPAddr(offDaddr, netip.IPv6Loopback())[1].(*expr.Cmp); cmp.Op != expr.CmpOpNeq {
		t.Errorf("notIPAddr compares with %v", cmp.Op)
	}
}

func TestDefaultPool6(t *testing.T) {
	pool := DefaultPool6()
	if len(pool) != 1<<16 {
		t.Fatalf("len = %d, want 65536", len(pool))
	}
	parent := netip.MustParsePrefix("fd00:b3e7:5c2f::/48")
	seen := map[netip.Prefix]bool{}
	for i, p := range pool {
		if p.Bits() != 64 || !parent.Contains(p.Addr()) || p != p.Masked() || seen[p] {
			t.Fatalf("pool[%d] = %v, want a new /64 inside %v", i, p, parent)
		}
		seen[p] = true
	}
	if pool[0].String() != "fd00:b3e7:5c2f::/64" || pool[1].String() != "fd00:b3e7:5c2f:1::/64" || pool[len(pool)-1].String() != "fd00:b3e7:5c2f:ffff::/64" {
		t.Errorf("pool runs %v, %v .. %v", pool[0], pool[1], pool[len(pool)-1])
	}
}

func TestPickSubnet6(t *testing.T) {
	pool := DefaultPool6()
	got, err := PickSubnet(pool, prefixes("fd00:b3e7:5c2f::/64", "10.89.0.0/24"), prefixes("fd00:b3e7:5c2f:1::/64", "fd00::/64", "fe80::/64", "10.0.0.0/8"))
	if err != nil || got.String() != "fd00:b3e7:5c2f:2::/64" {
		t.Errorf("PickSubnet = %v, %v; want fd00:b3e7:5c2f:2::/64", got, err)
	}
	if got, err := PickSubnet(pool, nil, prefixes("fd00:b3e7::/32")); !errors.Is(err, ErrExhausted) {
		t.Errorf("pool covered by one route: %v, %v; want ErrExhausted", got, err)
	}
	// A v6 pool ignores IPv4 prefixes entirely, and a v4 pool v6 ones.
	if got, err := PickSubnet(prefixes("10.89.0.0/24"), prefixes("fd00:b3e7:5c2f::/64"), prefixes("::/0")); err != nil || got.String() != "10.89.0.0/24" {
		t.Errorf("v4 pool with v6 routes: %v, %v", got, err)
	}
	// PickAddress in a picked /64 skips the network address and the gateway.
	if a, err := PickAddress(got, got.Addr().Next(), nil); err != nil || a != got.Addr().Next().Next() {
		t.Errorf("PickAddress in %v = %v, %v", got, a, err)
	}
}
