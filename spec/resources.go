package spec

import (
	"fmt"
	"maps"
	"net/netip"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// convertNetwork converts one project network; compose-go has already named
// it "<project>_<key>" unless the file gave a name or it is external.
func convertNetwork(key string, n types.NetworkConfig, ps *problems) Network {
	at := func(keys ...string) []string { return append([]string{"networks", key}, keys...) }
	out := Network{
		Name:     n.Name,
		Driver:   n.Driver,
		Internal: n.Internal,
		External: bool(n.External),
		Labels:   nilIfEmpty(n.Labels),
		// Kept as given: the engine honours the bridge name and the MTU.
		DriverOpts: nilIfEmpty(n.DriverOpts),
		EnableIPv6: n.EnableIPv6 != nil && *n.EnableIPv6,
	}
	if out.Driver == "" {
		out.Driver = "bridge"
	}
	if name, ok := out.DriverOpts[bridgeNameOpt]; ok && (name == "" || len(name) > 15 || strings.ContainsAny(name, "/ \t\n:")) {
		ps.invalid("driver_opts "+bridgeNameOpt+" "+strconv.Quote(name)+" must be an interface name of 1 to 15 characters", at("driver_opts", bridgeNameOpt)...)
	}
	var err error
	if out.MTU, err = ParseMTU(out.DriverOpts); err != nil {
		ps.invalid(err.Error(), at("driver_opts", mtuOpt)...)
	}
	for opt := range out.DriverOpts {
		if opt != bridgeNameOpt && opt != mtuOpt && !out.External {
			ps.unsupported("driver_opts "+opt, at("driver_opts", opt)...)
		}
	}
	if out.Driver != "bridge" && !out.External {
		ps.unsupported("driver "+n.Driver, at("driver")...)
	}
	if d := n.Ipam.Driver; d != "" && d != "default" {
		ps.unsupported("ipam driver "+d, at("ipam", "driver")...)
	}
	if n.EnableIPv4 != nil && !*n.EnableIPv4 {
		ps.unsupported("enable_ipv4: false", at("enable_ipv4")...)
	}
	for _, pool := range n.Ipam.Config {
		if pool == nil {
			continue
		}
		if p, ok := parsePool(pool.Subnet, pool.Gateway, pool.IPRange, ps, at("ipam", "config")); ok {
			out.IPAM = append(out.IPAM, p)
		}
	}
	return out
}

// Network driver options berth validates (the others are kept as given).
const (
	bridgeNameOpt = "com.docker.network.bridge.name"
	mtuOpt        = "com.docker.network.driver.mtu"
)

// parsePool parses an ipam.config entry and reports whether it is
// consistent: a CIDR subnet, and a gateway and ip_range inside it.
func parsePool(subnet, gateway, ipRange string, ps *problems, path []string) (IPAMPool, bool) {
	bad := func(msg string) (IPAMPool, bool) {
		ps.invalid("ipam subnet "+strconv.Quote(subnet)+": "+msg, path...)
		return IPAMPool{}, false
	}
	var p IPAMPool
	var err error
	if p.Subnet, err = netip.ParsePrefix(subnet); err != nil {
		if subnet == "" {
			return bad("a gateway or ip_range needs a subnet")
		}
		return bad("not a CIDR subnet")
	}
	if gateway != "" {
		if p.Gateway, err = netip.ParseAddr(gateway); err != nil || !p.Subnet.Contains(p.Gateway) {
			return bad("gateway " + strconv.Quote(gateway) + " is not an address of the subnet")
		}
	}
	if ipRange != "" {
		if p.IPRange, err = netip.ParsePrefix(ipRange); err != nil || p.IPRange.Bits() < p.Subnet.Bits() || !p.Subnet.Contains(p.IPRange.Addr()) {
			return bad("ip_range " + strconv.Quote(ipRange) + " is not a CIDR inside the subnet")
		}
	}
	return p, true
}

// ParseMTU is the MTU a network's driver_opts ask for, 0 when none.
func ParseMTU(driverOpts map[string]string) (int, error) {
	mtu, ok := driverOpts[mtuOpt]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseUint(mtu, 10, 32)
	if err != nil || n < 68 || n > 65535 {
		return 0, fmt.Errorf("driver_opts %s %q must be a number from 68 to 65535", mtuOpt, mtu)
	}
	return int(n), nil
}

// ParsePool parses an IPAM pool given as strings (as `network create`'s
// flags give it), naming what is wrong.
func ParsePool(subnet, gateway, ipRange string) (IPAMPool, error) {
	var ps problems
	p, ok := parsePool(subnet, gateway, ipRange, &ps, nil)
	if !ok {
		return p, fmt.Errorf("%w: %s", ErrInvalid, ps[0].msg)
	}
	return p, nil
}

// convertVolume converts one project volume, named like networks.
func convertVolume(key string, v types.VolumeConfig, ps *problems) Volume {
	out := Volume{
		Name:       v.Name,
		Driver:     v.Driver,
		External:   bool(v.External),
		Labels:     nilIfEmpty(v.Labels),
		DriverOpts: nilIfEmpty(v.DriverOpts),
	}
	if out.Driver == "" {
		out.Driver = "local"
	}
	if out.Driver != "local" && !out.External {
		ps.unsupported("driver "+v.Driver, "volumes", key, "driver")
		return out
	}
	for opt := range out.DriverOpts {
		switch opt {
		case "type", "o", "device":
		case "size":
			ps.unsupported("driver_opts size", "volumes", key, "driver_opts", opt)
		default:
			ps.invalid("driver_opts "+strconv.Quote(opt)+": the local driver takes only type, o and device", "volumes", key, "driver_opts", opt)
		}
	}
	return out
}

// nilIfEmpty is nil for an empty map, else a copy of m (normalize never
// writes into the maps it was given).
func nilIfEmpty[M ~map[K]V, K comparable, V any](m M) M {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
