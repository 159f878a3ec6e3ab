package spec

import (
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
	if mtu, ok := out.DriverOpts[mtuOpt]; ok {
		if n, err := strconv.ParseUint(mtu, 10, 32); err != nil || n < 68 || n > 65535 {
			ps.invalid("driver_opts "+mtuOpt+" "+strconv.Quote(mtu)+" must be a number from 68 to 65535", at("driver_opts", mtuOpt)...)
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
		p := IPAMPool{Subnet: pool.Subnet, Gateway: pool.Gateway, IPRange: pool.IPRange}
		if checkPool(p, ps, at("ipam", "config")) {
			out.IPAM = append(out.IPAM, p)
			if p.Subnet != "" {
				out.Subnets = append(out.Subnets, p.Subnet)
			}
		}
	}
	return out
}

// Network driver options berth validates (the others are kept as given).
const (
	bridgeNameOpt = "com.docker.network.bridge.name"
	mtuOpt        = "com.docker.network.driver.mtu"
)

// checkPool reports whether an ipam.config entry is consistent: a CIDR
// subnet, and a gateway and ip_range inside it.
func checkPool(p IPAMPool, ps *problems, path []string) bool {
	bad := func(msg string) bool {
		ps.invalid("ipam subnet "+strconv.Quote(p.Subnet)+": "+msg, path...)
		return false
	}
	subnet, err := netip.ParsePrefix(p.Subnet)
	if err != nil {
		if p.Subnet == "" {
			return bad("a gateway or ip_range needs a subnet")
		}
		return bad("not a CIDR subnet")
	}
	if p.Gateway != "" {
		if gw, err := netip.ParseAddr(p.Gateway); err != nil || !subnet.Contains(gw) {
			return bad("gateway " + strconv.Quote(p.Gateway) + " is not an address of the subnet")
		}
	}
	if p.IPRange != "" {
		r, err := netip.ParsePrefix(p.IPRange)
		if err != nil || r.Bits() < subnet.Bits() || !subnet.Contains(r.Addr()) {
			return bad("ip_range " + strconv.Quote(p.IPRange) + " is not a CIDR inside the subnet")
		}
	}
	return true
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

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
