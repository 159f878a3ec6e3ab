package network

import (
	"crypto/sha256"
	"encoding/hex"
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

func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}
