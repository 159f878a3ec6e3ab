package compose

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// displayPorts is ps's PORTS column as Docker renders a container's
// ports: runs of consecutive ports of one protocol (and address, when
// published on the same number) shown as a range ("7000-7001/udp",
// "0.0.0.0:80-81->80-81/tcp"), then the ports published on another
// number ("127.0.0.1:8080->80/tcp"), by target port.
func displayPorts(pubs []publisher) string {
	ps := slices.Clone(pubs)
	slices.SortFunc(ps, func(a, b publisher) int {
		return cmp.Or(cmp.Compare(a.TargetPort, b.TargetPort), strings.Compare(a.URL, b.URL),
			cmp.Compare(a.PublishedPort, b.PublishedPort), strings.Compare(a.Protocol, b.Protocol))
	})
	type run struct{ first, last int }
	runs := map[string]*run{}
	var keys, out, mapped []string
	for _, p := range ps {
		key := p.Protocol
		if p.URL != "" {
			if p.PublishedPort != p.TargetPort {
				mapped = append(mapped, fmt.Sprintf("%s->%d/%s", net.JoinHostPort(p.URL, strconv.Itoa(p.PublishedPort)), p.TargetPort, p.Protocol))
				continue
			}
			key = p.URL + "/" + p.Protocol
		}
		r, ok := runs[key]
		switch {
		case !ok:
			runs[key] = &run{p.TargetPort, p.TargetPort}
			keys = append(keys, key)
		case p.TargetPort == r.last+1:
			r.last = p.TargetPort
		default:
			out = append(out, portRun(key, r.first, r.last))
			runs[key] = &run{p.TargetPort, p.TargetPort}
		}
	}
	for _, k := range keys {
		out = append(out, portRun(k, runs[k].first, runs[k].last))
	}
	return strings.Join(append(out, mapped...), ", ")
}

// portRun renders one run of ports under key "proto" or "address/proto".
func portRun(key string, first, last int) string {
	proto := key
	addr := ""
	if i := strings.LastIndex(key, "/"); i >= 0 {
		addr, proto = key[:i], key[i+1:]
	}
	ports := strconv.Itoa(first)
	if last != first {
		ports += "-" + strconv.Itoa(last)
	}
	if addr != "" {
		return fmt.Sprintf("%s:%s->%s/%s", addr, ports, ports, proto)
	}
	return ports + "/" + proto
}
