package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
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
		if addr, ok := nameserver(line); ok {
			if addr.IsValid() && addr.Unmap().IsLoopback() {
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

// Where the host's resolver configuration lives.
const (
	etcResolvConf     = "/etc/resolv.conf"
	systemdResolvConf = "/run/systemd/resolve/resolv.conf" // systemd-resolved's upstream servers
)

// HostResolvConf reads the host's resolver configuration to feed
// ResolvConf: /etc/resolv.conf, unless that only points at local stub
// resolvers (systemd-resolved's 127.0.0.53) and systemd-resolved's list
// of upstream servers exists, which is then used instead, as Docker does.
func HostResolvConf() ([]byte, error) {
	b, err := os.ReadFile(etcResolvConf)
	if err != nil {
		return nil, fmt.Errorf("reading host resolv.conf: %w", err)
	}
	if onlyLoopbackNameservers(b) {
		if up, err := os.ReadFile(systemdResolvConf); err == nil {
			return up, nil
		}
	}
	return b, nil
}

// onlyLoopbackNameservers reports whether conf lists nameservers and all
// of them are loopback addresses.
func onlyLoopbackNameservers(conf []byte) bool {
	servers := 0
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		if addr, ok := nameserver(sc.Text()); ok {
			if !addr.IsValid() || !addr.Unmap().IsLoopback() {
				return false
			}
			servers++
		}
	}
	return servers > 0
}

// nameserver parses a "nameserver ADDR" line; ok is false for other lines,
// and the address is invalid if ADDR does not parse.
func nameserver(line string) (addr netip.Addr, ok bool) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "nameserver" {
		return netip.Addr{}, false
	}
	addr, _ = netip.ParseAddr(f[1])
	return addr, true
}
