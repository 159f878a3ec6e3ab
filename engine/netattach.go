package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// attach gives the container its network namespace, joined to each of its
// networks with a recorded address, and returns the namespace path for the
// runtime ("host" for network_mode host, "" for a fresh empty one, another
// container's namespace for service: and container: modes).
func (e *Engine) attach(ctx context.Context, c reconcile.ContainerSpec) (string, error) {
	mode := c.Service.NetworkMode
	switch {
	case mode == "host":
		return "host", nil
	case mode == "none":
		return "", nil
	case strings.HasPrefix(mode, "service:"), strings.HasPrefix(mode, "container:"):
		return e.sharedNetNS(ctx, c.Project, mode)
	}
	ns := e.netnsPath(c.Name)
	if err := network.CreateNetNS(ns); err != nil {
		return "", err
	}
	for i, key := range sortedNetworkKeys(c.Service) {
		l, err := e.link(ctx, c, key, i)
		if err != nil {
			return "", err
		}
		if err := e.net.Attach(ns, l); err != nil {
			return "", err
		}
	}
	return ns, nil
}

// sharedNetNS is the network namespace of the container a service: or
// container: network mode names.
func (e *Engine) sharedNetNS(ctx context.Context, project, mode string) (string, error) {
	kind, target, _ := strings.Cut(mode, ":")
	name := target
	if kind == "service" {
		var err error
		if name, err = e.ServiceContainer(ctx, project, target, 1); err != nil {
			return "", err
		}
	}
	if _, err := e.store.Container(ctx, name); err != nil {
		return "", fmt.Errorf("network_mode %s: %w", mode, err)
	}
	ns := e.netnsPath(name)
	if !network.NetNSExists(ns) {
		return "", fmt.Errorf("network_mode %s: container %s has no network namespace (is it running with its own network?)", mode, name)
	}
	return ns, nil
}

func sortedNetworkKeys(svc spec.Service) []string {
	keys := make([]string, 0, len(svc.Networks))
	for k := range svc.Networks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// link is the container's i-th network attachment, with the address
// recorded for it (the lowest free one unless the service asks for one;
// removing the container frees it, so a recreated container usually gets
// the same one back).
func (e *Engine) link(ctx context.Context, c reconcile.ContainerSpec, key string, i int) (network.Link, error) {
	n := c.Networks[key]
	rec, err := e.store.Network(ctx, n.Name)
	if err != nil {
		return network.Link{}, err
	}
	b, err := bridgeOf(rec)
	if err != nil {
		return network.Link{}, err
	}
	sn := c.Service.Networks[key]
	addr, err := e.store.AllocateEndpoint(ctx, c.Name, n.Name, key, func(used []string) (string, error) {
		if sn.IPv4Address != "" {
			return sn.IPv4Address, nil
		}
		return pickAddress(rec, b, used)
	})
	if err != nil {
		return network.Link{}, err
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return network.Link{}, fmt.Errorf("address %q of %s: %w", addr, c.Name, err)
	}
	if !b.Subnet.Contains(ip) {
		return network.Link{}, fmt.Errorf("ipv4_address %s of %s is not in network %s's subnet %s", ip, c.Name, n.Name, b.Subnet)
	}
	l := network.Link{Bridge: b, HostVeth: e.vethName(c.Name, n.Name), IfName: "eth" + strconv.Itoa(i),
		Addr: netip.PrefixFrom(ip, b.Subnet.Bits()), DefaultRoute: i == 0}
	if b.Subnet6.IsValid() {
		if l.Addr6, err = e.address6(ctx, c.Name, n.Name, sn.IPv6Address, b); err != nil {
			return l, err
		}
	} else if sn.IPv6Address != "" {
		return l, fmt.Errorf("ipv6_address of %s: network %s has no IPv6 (enable_ipv6)", c.Name, n.Name)
	}
	mac := first(sn.MacAddress, map[bool]string{true: c.Service.MacAddress}[i == 0])
	if mac != "" {
		if l.MAC, err = net.ParseMAC(mac); err != nil {
			return l, fmt.Errorf("mac_address of %s: %w", c.Name, err)
		}
	}
	return l, nil
}

// address6 is the container's IPv6 address on a dual-stack network: the
// one asked for, or the lowest free one, recorded like the IPv4 one.
func (e *Engine) address6(ctx context.Context, container, netName, want string, b network.Bridge) (netip.Prefix, error) {
	addr, err := e.store.AllocateEndpoint6(ctx, container, netName, func(used []string) (string, error) {
		if want != "" {
			for _, u := range used {
				if u == want {
					return "", fmt.Errorf("ipv6_address %s is already used on network %s", want, netName)
				}
			}
			return want, nil
		}
		var taken []netip.Addr
		for _, u := range used {
			if a, err := netip.ParseAddr(u); err == nil {
				taken = append(taken, a)
			}
		}
		a, err := network.PickAddressIn(b.Subnet6, netip.Prefix{}, b.Gateway6, taken)
		return a.String(), err
	})
	if err != nil {
		return netip.Prefix{}, err
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || !b.Subnet6.Contains(ip) {
		return netip.Prefix{}, fmt.Errorf("ipv6_address %s of %s is not in network %s's subnet %s", addr, container, netName, b.Subnet6)
	}
	return netip.PrefixFrom(ip, b.Subnet6.Bits()), nil
}

func pickAddress(rec store.Network, b network.Bridge, used []string) (string, error) {
	var taken []netip.Addr
	for _, u := range used {
		if a, err := netip.ParseAddr(u); err == nil {
			taken = append(taken, a)
		}
	}
	var ipRange netip.Prefix
	if rec.IPRange != "" {
		var err error
		if ipRange, err = netip.ParsePrefix(rec.IPRange); err != nil {
			return "", fmt.Errorf("network %s: ip_range: %w", rec.Name, err)
		}
	}
	a, err := network.PickAddressIn(b.Subnet, ipRange, b.Gateway, taken)
	return a.String(), err
}

// vethName is the host end of container's veth on network; it includes
// the state root so that two berths never share one.
func (e *Engine) vethName(container, netName string) string {
	return network.VethName(e.Root+"\x00"+container, netName)
}

// publish sets up the container's published ports on its first network,
// choosing a free host port for those given none, and records them.
func (e *Engine) publish(ctx context.Context, c reconcile.ContainerSpec) error {
	if len(c.Service.Ports) == 0 || c.Service.NetworkMode != "" {
		return nil // host networking needs no publishing; none and shared modes have nothing of their own
	}
	// Ports go to the address on the primary network: the first by key,
	// the one that carries the default route (eth0).
	keys := sortedNetworkKeys(c.Service)
	if len(keys) == 0 {
		return fmt.Errorf("publishing ports of %s: it has no network", c.Name)
	}
	primary := c.Networks[keys[0]].Name
	eps, err := e.endpointsOf(ctx, c.Name)
	if err != nil {
		return err
	}
	var addr, addr6 string
	for _, ep := range eps {
		if ep.Network == primary {
			addr, addr6 = ep.Address, ep.Address6
		}
	}
	rec, err := e.store.Network(ctx, primary)
	if err != nil {
		return err
	}
	if rec.Internal {
		return fmt.Errorf("publishing ports of %s: network %s is internal", c.Name, rec.Name)
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return fmt.Errorf("publishing ports of %s: no address on %s: %w", c.Name, primary, err)
	}
	taken, err := e.takenPorts(ctx)
	if err != nil {
		return err
	}
	var maps []network.PortMapping
	var recs []store.Port
	for _, p := range c.Service.Ports {
		target := ip
		if strings.Contains(p.HostIP, ":") { // an IPv6 host address goes to the container's IPv6 address
			if target, err = netip.ParseAddr(addr6); err != nil {
				return fmt.Errorf("service %q: port %s:%d: the container has no IPv6 address (enable_ipv6 on its network)", c.Service.Name, p.HostIP, p.Target)
			}
		}
		ms, err := e.portMappings(p, target, rec.Bridge, taken)
		if err != nil {
			return fmt.Errorf("service %q: ports: %w", c.Service.Name, err)
		}
		for _, m := range ms {
			taken[m.Protocol] = append(taken[m.Protocol], m.HostPort)
			recs = append(recs, store.Port{Container: c.Name, Protocol: m.Protocol, HostIP: p.HostIP, HostPort: int(m.HostPort), ContainerPort: int(m.ContainerPort)})
		}
		maps = append(maps, ms...)
		maps = append(maps, mirror6(ms, p.HostIP, addr6)...)
	}
	if err := e.store.SetPorts(ctx, c.Name, recs); err != nil {
		return err
	}
	return e.net.PublishPorts(c.Name, maps)
}

// mirror6 publishes each mapping on the host's IPv6 addresses too, to the
// container's IPv6 address, when it has one and the port names no host
// address (Docker's default on a dual-stack network; 0.0.0.0 means IPv4 only).
func mirror6(ms []network.PortMapping, hostIP, addr6 string) []network.PortMapping {
	ip6, err := netip.ParseAddr(addr6)
	if err != nil || hostIP != "" {
		return nil
	}
	var out []network.PortMapping
	for _, m := range ms {
		m.ContainerIP, m.HostIP = ip6, netip.Addr{}
		out = append(out, m)
	}
	return out
}

// takenPorts are the host ports berth has published, by protocol.
func (e *Engine) takenPorts(ctx context.Context) (map[string][]uint16, error) {
	all, err := e.store.Ports(ctx, "")
	if err != nil {
		return nil, err
	}
	taken := map[string][]uint16{}
	for _, p := range all {
		taken[p.Protocol] = append(taken[p.Protocol], uint16(p.HostPort))
	}
	return taken, nil
}

// portMappings expands one published port: a single port, a range, or an
// ephemeral one.
func (e *Engine) portMappings(p spec.Port, ip netip.Addr, bridge string, taken map[string][]uint16) ([]network.PortMapping, error) {
	proto := first(p.Protocol, "tcp")
	var hostIP netip.Addr
	if p.HostIP != "" {
		var err error
		if hostIP, err = netip.ParseAddr(p.HostIP); err != nil {
			return nil, fmt.Errorf("host_ip %q: %w", p.HostIP, err)
		}
	}
	mapping := func(host uint16, target uint32) network.PortMapping {
		return network.PortMapping{HostIP: hostIP, HostPort: host, ContainerIP: ip, ContainerPort: uint16(target), Protocol: proto, Bridge: bridge}
	}
	if p.Published == "" {
		port, err := e.net.FreePort(proto, hostIP, taken[proto])
		if err != nil {
			return nil, fmt.Errorf("port %d: choosing a host port: %w", p.Target, err)
		}
		return []network.PortMapping{mapping(port, p.Target)}, nil
	}
	lo, hi, err := portRange(p.Published)
	if err != nil {
		return nil, err
	}
	if hi > lo {
		// "8000-8010:80" (compose-go expands equal ranges on both sides
		// into single ports): one free host port of the range for port 80,
		// as Docker does, so that each replica of a service gets one.
		port, err := e.freePortIn(proto, hostIP, lo, hi, taken[proto])
		if err != nil {
			return nil, fmt.Errorf("port %d: no free host port in %s: %w", p.Target, p.Published, err)
		}
		return []network.PortMapping{mapping(port, p.Target)}, nil
	}
	return []network.PortMapping{mapping(lo, p.Target)}, nil
}

// freePortIn is the first port of lo..hi that berth has not published and
// that nothing on the host listens on.
func (e *Engine) freePortIn(proto string, hostIP netip.Addr, lo, hi uint16, taken []uint16) (uint16, error) {
	used := map[uint16]bool{}
	for _, t := range taken {
		used[t] = true
	}
	for port := lo; port <= hi && port >= lo; port++ {
		if !used[port] && network.PortFree(proto, hostIP, port) {
			return port, nil
		}
	}
	return 0, network.ErrExhausted
}

func portRange(s string) (uint16, uint16, error) {
	loS, hiS, isRange := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(loS, 10, 16)
	if err != nil {
		return 0, 0, fmt.Errorf("published port %q: %w", s, err)
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseUint(hiS, 10, 16); err != nil || hi < lo {
			return 0, 0, fmt.Errorf("published port range %q is invalid", s)
		}
	}
	return uint16(lo), uint16(hi), nil
}
