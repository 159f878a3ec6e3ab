package network

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"
)

// fallbackNameservers are used, as Docker does, when the host's
// resolv.conf lists no nameserver a container can reach.
var fallbackNameservers = []string{"8.8.8.8", "8.8.4.4"}

// ResolvConf derives a container's /etc/resolv.conf from the host's: every
// line is kept except nameservers on a loopback address (127.0.0.0/8 or
// ::1, such as systemd-resolved's 127.0.0.53 stub or a local dnsmasq),
// which mean the host itself and are unreachable from a container's own
// network namespace. If no nameserver is left, Google's public resolvers
// are added, as Docker does.
func ResolvConf(host []byte) []byte {
	var out bytes.Buffer
	servers := 0
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "nameserver" {
			addr, err := netip.ParseAddr(f[1])
			if err == nil && addr.Unmap().IsLoopback() {
				continue
			}
			servers++
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if servers == 0 {
		for _, s := range fallbackNameservers {
			out.WriteString("nameserver " + s + "\n")
		}
	}
	return out.Bytes()
}
