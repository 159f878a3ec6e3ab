package network

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"
)

// maxIfName is the longest interface name Linux accepts (IFNAMSIZ - 1).
const maxIfName = 15

// BridgeName returns the kernel interface name of the bridge for a network:
// "br-" followed by the first 12 hex digits of sha256(networkID), 15
// characters, the shape Docker uses.
func BridgeName(networkID string) string {
	return "br-" + shortHash(networkID, 12)
}

// VethName returns the host-side veth name of container's link to network:
// "veth" followed by 11 hex digits of a hash of both, 15 characters.
func VethName(container, network string) string {
	return "veth" + shortHash(container+"\x00"+network, 11)
}

// isVethName reports whether name is shaped as VethName makes them.
func isVethName(name string) bool {
	const prefix = "veth"
	if len(name) != len(prefix)+11 || name[:len(prefix)] != prefix {
		return false
	}
	for _, c := range name[len(prefix):] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// MACFor is the MAC address of a container interface with address ip:
// 02:42 followed by the IPv4 address, as Docker does. A container recreated
// with the same address gets the same MAC, so the host's and peers'
// neighbour caches stay right and traffic does not stall until they expire.
func MACFor(ip netip.Addr) net.HardwareAddr {
	a := ip.Unmap().As4()
	return net.HardwareAddr{0x02, 0x42, a[0], a[1], a[2], a[3]}
}
