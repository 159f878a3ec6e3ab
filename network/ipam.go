package network

import (
	"fmt"
	"net/netip"
)

// DefaultPool returns the subnets berth hands to networks that do not name
// one: 10.89.0.0/16 split into 256 /24s, 10.89.0.0/24 first. It is the
// range podman uses for networks after its default 10.88.0.0/16, which
// keeps clear of Docker's 172.17.0.0/16 and 172.18+ pools and of the
// 192.168.0.0/16 ranges home routers hand out; a /24 (253 containers)
// is plenty for one Compose network.
func DefaultPool() []netip.Prefix {
	pool := make([]netip.Prefix, 0, 256)
	for i := 0; i < 256; i++ {
		pool = append(pool, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 89, byte(i), 0}), 24))
	}
	return pool
}

// pool6 is the ULA prefix berth's IPv6 subnets come from (see DefaultPool6).
var pool6 = netip.MustParsePrefix("fd00:b3e7:5c2f::/48")

// DefaultPool6 returns the IPv6 subnets berth hands to dual-stack
// networks that do not name one: fd00:b3e7:5c2f::/48 split into its
// 65536 /64s, fd00:b3e7:5c2f::/64 first. It is a unique local (ULA,
// RFC 4193) prefix, so it is never routed beyond the host and needs no
// delegated global prefix; containers reach the outside through
// masquerade, as with IPv4. The 40-bit global ID (00:b3e7:5c2f) is
// fixed, not random per host, so a network's subnet is the same on every
// host and run; its last 16 bits are the first of sha256("berth"), and
// it keeps clear of fd00::/64 and other small fd00:: numbers that
// hand-configured hosts often use. A /64 per network is what SLAAC and
// Docker use, and PickAddress never walks far in it.
func DefaultPool6() []netip.Prefix {
	pool := make([]netip.Prefix, 0, 1<<16)
	base := pool6.Addr().As16()
	for i := 0; i < 1<<16; i++ {
		a := base
		a[6], a[7] = byte(i>>8), byte(i)
		pool = append(pool, netip.PrefixFrom(netip.AddrFrom16(a), 64))
	}
	return pool
}

// PickSubnet returns the first prefix of pool that overlaps neither a
// subnet already used by berth nor one to avoid (typically HostRoutes).
// It works for IPv4 and IPv6 pools alike; prefixes of the other family in
// used and avoid never overlap and are ignored. It returns an error
// wrapping ErrExhausted when there is none.
func PickSubnet(pool, used, avoid []netip.Prefix) (netip.Prefix, error) {
	taken := append(append([]netip.Prefix{}, used...), avoid...)
next:
	for _, p := range pool {
		p = p.Masked()
		for _, t := range taken {
			if p.Overlaps(t) {
				continue next
			}
		}
		return p, nil
	}
	return netip.Prefix{}, fmt.Errorf("picking a subnet from %d candidates: %w", len(pool), ErrExhausted)
}

// PickAddress returns the lowest address of subnet that is not its
// network address, its broadcast address (IPv4), the gateway or in used.
// It returns an error wrapping ErrExhausted when the subnet is full.
func PickAddress(subnet netip.Prefix, gateway netip.Addr, used []netip.Addr) (netip.Addr, error) {
	return PickAddressIn(subnet, netip.Prefix{}, gateway, used)
}

// PickAddressIn is PickAddress restricted to ipRange, a prefix inside
// subnet from which containers get their addresses (Compose's
// ipam.config ip_range); an invalid (zero) ipRange means the whole
// subnet. The subnet's network and broadcast addresses are never handed
// out, even when ipRange covers them. A range outside the subnet is an
// error wrapping ErrInvalid; a full range one wrapping ErrExhausted.
func PickAddressIn(subnet, ipRange netip.Prefix, gateway netip.Addr, used []netip.Addr) (netip.Addr, error) {
	subnet = subnet.Masked()
	if !subnet.IsValid() {
		return netip.Addr{}, fmt.Errorf("picking an address: subnet %v: %w", subnet, ErrInvalid)
	}
	if !ipRange.IsValid() {
		ipRange = subnet
	}
	ipRange = ipRange.Masked()
	if ipRange.Addr().BitLen() != subnet.Addr().BitLen() || ipRange.Bits() < subnet.Bits() || !subnet.Contains(ipRange.Addr()) {
		return netip.Addr{}, fmt.Errorf("picking an address: ip range %v: not inside subnet %v: %w", ipRange, subnet, ErrInvalid)
	}
	taken := make(map[netip.Addr]bool, len(used)+3)
	taken[gateway] = true
	taken[subnet.Addr()] = true // the network address
	last := lastAddr(subnet)
	if subnet.Addr().Is4() {
		taken[last] = true // the broadcast address
	}
	for _, a := range used {
		taken[a] = true
	}
	// At most len(taken) addresses are skipped before a free one, so the
	// walk is short even in a huge IPv6 range.
	for a := ipRange.Addr(); a.IsValid() && ipRange.Contains(a); a = a.Next() {
		if !taken[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("picking an address in %v: %w", ipRange, ErrExhausted)
}

// lastAddr returns the highest address of p (the broadcast address for IPv4).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := range b {
		hostBits := len(b)*8 - p.Bits() - (len(b)-1-i)*8
		switch {
		case hostBits >= 8:
			b[i] = 0xff
		case hostBits > 0:
			b[i] |= byte(1<<hostBits - 1)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
