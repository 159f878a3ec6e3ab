package spec

import (
	"maps"

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
	}
	if out.Driver == "" {
		out.Driver = "bridge"
	}
	if out.Driver != "bridge" && !out.External {
		ps.unsupported("driver "+n.Driver, at("driver")...)
	}
	if d := n.Ipam.Driver; d != "" && d != "default" {
		ps.unsupported("ipam driver "+d, at("ipam", "driver")...)
	}
	if n.EnableIPv6 != nil && *n.EnableIPv6 {
		ps.unsupported("enable_ipv6", at("enable_ipv6")...)
	}
	if n.EnableIPv4 != nil && !*n.EnableIPv4 {
		ps.unsupported("enable_ipv4: false", at("enable_ipv4")...)
	}
	for _, pool := range n.Ipam.Config {
		if pool != nil && pool.Subnet != "" {
			out.Subnets = append(out.Subnets, pool.Subnet)
		}
	}
	return out
}

// convertVolume converts one project volume, named like networks.
func convertVolume(key string, v types.VolumeConfig, ps *problems) Volume {
	out := Volume{
		Name:     v.Name,
		Driver:   v.Driver,
		External: bool(v.External),
		Labels:   nilIfEmpty(v.Labels),
	}
	if out.Driver == "" {
		out.Driver = "local"
	}
	if out.Driver != "local" && !out.External {
		ps.unsupported("driver "+v.Driver, "volumes", key, "driver")
	}
	return out
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
