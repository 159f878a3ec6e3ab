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

// PickSubnet returns the first prefix of pool that overlaps neither a
// subnet already used by berth nor one to avoid (typically HostRoutes).
// It returns an error wrapping ErrExhausted when there is none.
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
	subnet = subnet.Masked()
	if !subnet.IsValid() {
		return netip.Addr{}, fmt.Errorf("picking an address: subnet %v: %w", subnet, ErrInvalid)
	}
	taken := make(map[netip.Addr]bool, len(used)+1)
	taken[gateway] = true
	for _, a := range used {
		taken[a] = true
	}
	last := lastAddr(subnet)
	for a := subnet.Addr().Next(); a.IsValid() && a.Less(last); a = a.Next() {
		if !taken[a] {
			return a, nil
		}
	}
	// IPv6 has no broadcast address: the last one is usable too.
	if subnet.Addr().Is6() && subnet.Bits() < 128 && !taken[last] {
		return last, nil
	}
	return netip.Addr{}, fmt.Errorf("picking an address in %v: %w", subnet, ErrExhausted)
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
