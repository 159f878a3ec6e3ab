package network

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
)

// FreePort returns a host port for publishing a container port with no
// host port given ("80"): one from the host's ephemeral range
// (net.ipv4.ip_local_port_range), not in taken (the ports berth has
// already published for proto), and not bound by anyone right now for
// proto ("tcp" or "udp") on hostIP (invalid or unspecified = every
// address), which FreePort checks by binding it and letting go. The
// search starts at a random port of the range, so two berth processes
// picking at once rarely collide. It returns an error wrapping
// ErrExhausted when the whole range is in use.
func (h *Host) FreePort(proto string, hostIP netip.Addr, taken []uint16) (uint16, error) {
	if proto != "tcp" && proto != "udp" {
		return 0, fmt.Errorf("finding a free port: protocol %q: %w", proto, ErrInvalid)
	}
	lo, hi, err := localPortRange()
	if err != nil {
		return 0, fmt.Errorf("finding a free %s port: %w", proto, err)
	}
	n := int(hi) - int(lo) + 1
	start := rand.IntN(n)
	for i := range n {
		p := lo + uint16((start+i)%n)
		if slices.Contains(taken, p) {
			continue
		}
		if canBind(proto, hostIP, p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("finding a free %s port in %d-%d: %w", proto, lo, hi, ErrExhausted)
}

// localPortRange reads the kernel's ephemeral port range.
func localPortRange() (lo, hi uint16, err error) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, fmt.Errorf("reading the local port range: %w", err)
	}
	return parsePortRange(string(b))
}

// canBind reports whether port can be bound for proto on ip right now.
func canBind(proto string, ip netip.Addr, port uint16) bool { return bindErr(proto, ip, port) == nil }

// bindErr binds port for proto on ip (invalid or unspecified: every
// address) and lets it go, returning why it could not.
func bindErr(proto string, ip netip.Addr, port uint16) error {
	host := ""
	if ip.IsValid() && !ip.IsUnspecified() {
		host = ip.String()
	}
	addr := net.JoinHostPort(host, strconv.Itoa(int(port)))
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}
