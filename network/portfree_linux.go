package network

import "net/netip"

// PortFree reports whether nothing on the host has port bound for proto
// ("tcp" or "udp") on ip (invalid or unspecified: every address) right now.
func PortFree(proto string, ip netip.Addr, port uint16) bool { return canBind(proto, ip, port) }
