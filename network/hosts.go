package network

import (
	"bytes"
	"net/netip"
	"sort"
	"strings"
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
	var es []HostEntry
	for _, e := range entries {
		if e.IP.IsValid() && len(e.Names) > 0 {
			es = append(es, e)
		}
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].IP.Less(es[j].IP) })
	var b bytes.Buffer
	b.WriteString(localhostLines)
	for _, e := range es {
		b.WriteString(e.IP.String())
		b.WriteByte('\t')
		b.WriteString(strings.Join(e.Names, " "))
		b.WriteByte('\n')
	}
	return b.Bytes()
}
