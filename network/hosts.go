package network

import (
	"net/netip"
	"slices"
)

// HostEntry is one line of a container's /etc/hosts: an address and the
// names that resolve to it, the first being the canonical one.
type HostEntry struct {
	IP    netip.Addr
	Names []string
}

// localhostLines are the entries every container's /etc/hosts starts
// with, the same ones Docker writes.
const localhostLines = `127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
ff00::0	ip6-mcastprefix
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
`

// HostsFile renders a container's /etc/hosts: the localhost lines, then one
// line per entry ordered by address (entries with the same address keep
// their order), so the same set of peers always gives the same bytes.
// Entries without a valid address or without names are left out.
func HostsFile(entries []HostEntry) []byte {
	es := make([]HostEntry, 0, len(entries))
	size := len(localhostLines)
	for _, e := range entries {
		if e.IP.IsValid() && len(e.Names) > 0 {
			es = append(es, e)
			size += 40 + 16*len(e.Names)
		}
	}
	slices.SortStableFunc(es, func(a, b HostEntry) int { return a.IP.Compare(b.IP) })
	b := make([]byte, 0, size)
	b = append(b, localhostLines...)
	for _, e := range es {
		b = e.IP.AppendTo(b)
		for i, n := range e.Names {
			if i == 0 {
				b = append(b, '\t')
			} else {
				b = append(b, ' ')
			}
			b = append(b, n...)
		}
		b = append(b, '\n')
	}
	return b
}
