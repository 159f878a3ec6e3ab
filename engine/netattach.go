package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"

	"github.com/berth-dev/berth/internal/phase"
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
	case c.Shares != "":
		return e.sharedNetNS(ctx, c.Shares, mode)
	}
	keys := sortedNetworkKeys(c.Service)
	links := make([]network.Link, 0, len(keys))
	for i, key := range keys {
		l, err := e.link(ctx, c, key, i)
		if err != nil {
			return "", err
		}
		links = append(links, l)
	}
	ns := e.netnsPath(c.Name)
	if err := e.net.CreateNetNSWith(ns, links); err != nil {
		return "", err
	}
	return ns, nil
}

// sharedNetNS is the network namespace of container name, which a
// service: or container: network mode names.
func (e *Engine) sharedNetNS(ctx context.Context, name, mode string) (string, error) {
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
	addr, err := e.store.AllocateEndpoint(ctx, c.Name, n.Name, key, addressPicker(rec, b, sn.IPv4Address))
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
	} else if sn.IPv6Address.IsValid() {
		return l, fmt.Errorf("ipv6_address of %s: network %s has no IPv6 (enable_ipv6)", c.Name, n.Name)
	}
	if mac := configuredMAC(c.Service, key, i); mac != "" {
		if l.MAC, err = net.ParseMAC(mac); err != nil {
			return l, fmt.Errorf("mac_address of %s: %w", c.Name, err)
		}
	}
	return l, nil
}

// address6 is the container's IPv6 address on a dual-stack network: the
// one asked for, or the lowest free one, recorded like the IPv4 one.
func (e *Engine) address6(ctx context.Context, container, netName string, want netip.Addr, b network.Bridge) (netip.Prefix, error) {
	addr, err := e.store.AllocateEndpoint6(ctx, container, netName, func(used []string) (string, error) {
		if want.IsValid() {
			for _, u := range used {
				if a, err := netip.ParseAddr(u); err == nil && a == want {
					return "", fmt.Errorf("ipv6_address %s is already used on network %s", want, netName)
				}
			}
			return want.String(), nil
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

// claims are the addresses Create records with container c, one per
// network of its own (none for host, none and shared network modes), so
// that attach finds them recorded.
func (e *Engine) claims(ctx context.Context, c reconcile.ContainerSpec) ([]store.EndpointClaim, error) {
	if mode := c.Service.NetworkMode; mode == "host" || mode == "none" || c.Shares != "" {
		return nil, nil
	}
	var out []store.EndpointClaim
	for _, key := range sortedNetworkKeys(c.Service) {
		n := c.Networks[key]
		rec, err := e.store.Network(ctx, n.Name)
		if err != nil {
			return nil, err
		}
		b, err := bridgeOf(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, store.EndpointClaim{Network: n.Name, Key: key, Pick: addressPicker(rec, b, c.Service.Networks[key].IPv4Address)})
	}
	return out, nil
}

// addressPicker chooses a container's IPv4 address on network rec: want,
// when the service asks for one, else the lowest free one.
func addressPicker(rec store.Network, b network.Bridge, want netip.Addr) func(used []string) (string, error) {
	return func(used []string) (string, error) {
		if want.IsValid() {
			return want.String(), nil
		}
		return pickAddress(rec, b, used)
	}
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
	return e.publishFrom(ctx, c.Name, c)
}

// SwitchPorts moves the published ports of container from to c, its
// start-first successor: the records in one store transaction, the DNAT
// rules in one nft transaction. An ephemeral port keeps the host port
// from had, so that clients find the service where it was.
func (e *Engine) SwitchPorts(ctx context.Context, from string, c reconcile.ContainerSpec) error {
	end := phase.Start(c.Name, "switch.publish")
	err := e.publishFrom(ctx, from, c)
	end()
	defer phase.Start(c.Name, "switch.peers")()
	e.peerChanged(ctx, from)
	e.peerChanged(ctx, c.Name)
	return err
}

// publishFrom publishes c's ports, taking over those of container from
// (c itself when it publishes anew).
func (e *Engine) publishFrom(ctx context.Context, from string, c reconcile.ContainerSpec) error {
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
	taken, had, err := e.takenPortsBut(ctx, from)
	if err != nil {
		return err
	}
	var maps []network.PortMapping
	var recs []store.Port
	for _, p := range c.Service.Ports {
		target := ip
		if p.HostIP.Is6() { // an IPv6 host address goes to the container's IPv6 address
			if target, err = netip.ParseAddr(addr6); err != nil {
				return fmt.Errorf("service %q: port %s:%d: the container has no IPv6 address (enable_ipv6 on its network)", c.Service.Name, p.HostIP, p.Target)
			}
		}
		ms, err := portMappings(keepEphemeral(p, had), target, rec.Bridge, taken, kernelPorts{e.net})
		if err != nil {
			return fmt.Errorf("service %q: ports: %w", c.Service.Name, err)
		}
		for _, m := range ms {
			taken[m.Protocol] = append(taken[m.Protocol], m.HostPort)
			recs = append(recs, store.Port{Container: c.Name, Protocol: m.Protocol, HostIP: spec.AddrText(p.HostIP), HostPort: int(m.HostPort), ContainerPort: int(m.ContainerPort)})
		}
		maps = append(maps, ms...)
		maps = append(maps, mirror6(ms, p.HostIP, addr6)...)
	}
	end := phase.Start(c.Name, "publish.store")
	err = e.store.MovePorts(ctx, from, c.Name, recs)
	end()
	if err != nil {
		return err
	}
	defer phase.Start(c.Name, "publish.nft")()
	if from != c.Name && e.takesOver(ctx, from, primary, addr6, had, recs) {
		return e.net.TakeOverPorts(from, c.Name, maps) // from's rules go with its drain or removal
	}
	return e.net.SwitchPorts(from, c.Name, maps)
}

// keepEphemeral is p with, when it is ephemeral (no host port given), the
// host port of the same mapping in had: what the replaced container got.
func keepEphemeral(p spec.Port, had []store.Port) spec.Port {
	if !p.Published.IsZero() {
		return p
	}
	for _, h := range had {
		if h.Protocol == first(p.Protocol, "tcp") && h.HostIP == spec.AddrText(p.HostIP) && h.ContainerPort == int(p.Target) {
			p.Published = spec.PortRange{Lo: uint16(h.HostPort), Hi: uint16(h.HostPort)}
			return p
		}
	}
	return p
}

// takenPortsBut are the host ports berth has published, by protocol,
// leaving out those of container from, which are returned.
func (e *Engine) takenPortsBut(ctx context.Context, from string) (map[string][]uint16, []store.Port, error) {
	all, err := e.store.Ports(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	taken := map[string][]uint16{}
	var had []store.Port
	for _, p := range all {
		if p.Container == from {
			had = append(had, p)
			continue
		}
		taken[p.Protocol] = append(taken[p.Protocol], uint16(p.HostPort))
	}
	return taken, had, nil
}

// kernelPorts picks host ports that nothing on the host listens on.
type kernelPorts struct{ net *network.Host }

func (k kernelPorts) Free(proto string, hostIP netip.Addr, taken []uint16) (uint16, error) {
	return k.net.FreePort(proto, hostIP, taken)
}

// FreeIn is the first port of lo..hi that berth has not published and
// that nothing on the host listens on.
func (kernelPorts) FreeIn(proto string, hostIP netip.Addr, lo, hi uint16, taken []uint16) (uint16, error) {
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
