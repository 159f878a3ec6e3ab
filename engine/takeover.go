package engine

import (
	"cmp"
	"context"
	"slices"

	"github.com/berth-dev/berth/store"
)

// takesOver says whether the published ports recs of a start-first
// successor match exactly the connections those of container from (had)
// match: the same protocols, host addresses and host ports, and an IPv6
// address on the primary network for both or neither (an all-addresses
// port is mirrored to IPv6 when there is one). Then the successor's rules
// can shadow from's (network.Host.TakeOverPorts), whose deletion waits
// for from's drain; else they are switched with the deletion.
func (e *Engine) takesOver(ctx context.Context, from, primary, addr6 string, had, recs []store.Port) bool {
	if len(had) == 0 || !slices.Equal(hostSides(had), hostSides(recs)) {
		return false
	}
	eps, err := e.endpointsOf(ctx, from)
	if err != nil {
		return false
	}
	for _, ep := range eps {
		if ep.Network == primary {
			return (ep.Address6 == "") == (addr6 == "")
		}
	}
	return false
}

// hostPort is what a published port's rules match on the host.
type hostPort struct {
	proto, ip string
	port      int
}

// hostSides are the sorted host sides of ps.
func hostSides(ps []store.Port) []hostPort {
	out := make([]hostPort, 0, len(ps))
	for _, p := range ps {
		out = append(out, hostPort{p.Protocol, p.HostIP, p.HostPort})
	}
	slices.SortFunc(out, func(a, b hostPort) int {
		return cmp.Or(cmp.Compare(a.proto, b.proto), cmp.Compare(a.ip, b.ip), cmp.Compare(a.port, b.port))
	})
	return out
}
