package engine

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// ErrConflict is wrapped by every refusal of a plan that would take what
// another container, project or the host already holds: a container
// name, a published host port, a bridge name.
var ErrConflict = errors.New("conflict")

// holdings is what the host already holds, read once before a plan is
// applied: every project's container and port records, every network
// record, and probes of the kernel.
type holdings struct {
	containers map[string]store.Container // every recorded container, by name
	ports      []store.Port               // every port berth has published
	networks   []store.Network            // every network berth has made
	// portHolder says who holds proto/port on ip on the host outside
	// berth ("" when it is free).
	portHolder func(proto string, ip netip.Addr, port uint16) string
	// linkHolder says what interface called name exists on the host
	// ("" when there is none).
	linkHolder func(name string) string
}

// conflicts lists, for every container and network plan creates, what it
// would take from someone else, each error naming both sides: a container
// name recorded by another project, a host port published by another
// container (or by two containers of the plan) or bound by a host
// process, a bridge name held by an interface berth did not make.
// Containers the plan removes first give up what they hold.
func conflicts(plan reconcile.Plan, h holdings) []error {
	removed := map[string]bool{}
	for _, a := range plan.Actions {
		if a.Kind == reconcile.Remove {
			removed[a.Target] = true
		}
	}
	var errs []error
	claimed := append([]store.Port(nil), h.ports...)
	for _, a := range plan.Actions {
		switch {
		case a.Kind == reconcile.Create && a.Container != nil:
			c := *a.Container
			if rec, ok := h.containers[c.Name]; ok && rec.Project != c.Project && !removed[c.Name] {
				errs = append(errs, fmt.Errorf("service %q: %w: the container name %q is already in use by container %q (project %q, service %q); you have to remove (or rename) that container to be able to reuse that name",
					c.Service.Name, ErrConflict, "/"+c.Name, rec.ID, rec.Project, rec.Service))
			}
			for _, p := range c.Service.Ports {
				if p.Published.IsZero() || p.Published.Hi != p.Published.Lo {
					continue // an ephemeral port or a range: Create picks a free one
				}
				proto := first(p.Protocol, "tcp")
				want := store.Port{Container: c.Name, Protocol: proto, HostIP: spec.AddrText(p.HostIP), HostPort: int(p.Published.Lo), ContainerPort: int(p.Target)}
				if err := portConflict(c.Service.Name, want, claimed, removed, h.portHolder); err != nil {
					errs = append(errs, err)
				}
				claimed = append(claimed, want)
			}
		case a.Kind == reconcile.CreateNetwork && a.Network != nil:
			if err := bridgeConflict(a.Network.Name, a.Network.DriverOpts[optBridgeName], h); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// portConflict is Docker's refusal of a host port another container
// publishes ("port is already allocated") or a host process has bound
// ("address already in use"), naming the holder.
func portConflict(service string, want store.Port, claimed []store.Port, removed map[string]bool, holder func(string, netip.Addr, uint16) string) error {
	addr := net.JoinHostPort(first(want.HostIP, "0.0.0.0"), strconv.Itoa(want.HostPort))
	bind := "Bind for " + addr + " failed"
	for _, q := range claimed {
		if q.Protocol == want.Protocol && q.HostPort == want.HostPort && q.Container != want.Container &&
			!removed[q.Container] && addrsOverlap(q.HostIP, want.HostIP) {
			return fmt.Errorf("service %q: %w: %s: port is already allocated (%s/%s published by container %s)",
				service, ErrConflict, bind, net.JoinHostPort(first(q.HostIP, "0.0.0.0"), strconv.Itoa(q.HostPort)), q.Protocol, q.Container)
		}
	}
	ip, _ := netip.ParseAddr(want.HostIP)
	if who := holder(want.Protocol, ip, uint16(want.HostPort)); who != "" {
		return fmt.Errorf("service %q: %w: %s: listen %s %s: bind: address already in use (held on the host by %s)",
			service, ErrConflict, bind, want.Protocol, addr, who)
	}
	return nil
}

// addrsOverlap reports whether two published host addresses ("" for
// every address) share an address: equal, or one the unspecified address
// of the other's family (or "::", which a dual-stack socket spans).
func addrsOverlap(a, b string) bool {
	if a == "" || b == "" || a == b {
		return true
	}
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	if errX != nil || errY != nil {
		return false
	}
	wide := func(u, v netip.Addr) bool {
		return u.IsUnspecified() && (u.Is6() || v.Unmap().Is4())
	}
	return wide(x, y) || wide(y, x) || x.Unmap() == y.Unmap()
}

// bridgeConflict refuses a network whose bridge name
// (com.docker.network.bridge.name) is another berth network's, or an
// interface berth did not make: berth would strip a host bridge of its
// addresses, and delete it at `down`.
func bridgeConflict(network, bridge string, h holdings) error {
	if bridge == "" {
		return nil
	}
	for _, n := range h.networks {
		if n.Bridge == bridge {
			if n.Name == network {
				return nil // berth made it for this network: its own
			}
			return fmt.Errorf("network %s: %w: bridge name %q (%s) is already used by network %s", network, ErrConflict, bridge, optBridgeName, n.Name)
		}
	}
	if what := h.linkHolder(bridge); what != "" {
		return fmt.Errorf("network %s: %w: bridge name %q (%s) is taken by %s on the host, which berth did not create", network, ErrConflict, bridge, optBridgeName, what)
	}
	return nil
}
