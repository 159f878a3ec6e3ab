package spec

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// convertNetworking fills what decides a service's network namespace and
// name resolution: network_mode (validating service: references), networks,
// mac_address, extra_hosts, dns, dns_search, dns_opt and domainname.
func convertNetworking(s *Service, cs types.ServiceConfig, cp *types.Project, ps *problems) {
	at := serviceAt(cs.Name)
	switch mode := cs.NetworkMode; {
	case mode == "" || mode == "host" || mode == "none":
		s.NetworkMode = mode
	case strings.HasPrefix(mode, types.ServicePrefix):
		name := strings.TrimPrefix(mode, types.ServicePrefix)
		if checkServiceRef(cp, name, "network_mode "+strconv.Quote(mode), ps, at("network_mode")) {
			s.NetworkMode = mode
			impliedDependency(s, name)
		}
	case strings.HasPrefix(mode, types.ContainerPrefix) && len(mode) > len(types.ContainerPrefix):
		s.NetworkMode = mode
	default:
		ps.unsupported("network_mode "+mode, at("network_mode")...)
	}
	if s.NetworkMode == "" {
		s.Networks = serviceNetworks(cs.Networks, ps, at("networks"))
	}
	if strings.Contains(s.NetworkMode, ":") && len(cs.Ports) > 0 {
		// Docker's own refusal: the ports would be the other container's.
		ps.invalid("conflicting options: port publishing and network_mode "+strconv.Quote(s.NetworkMode)+
			" (publish the ports on the service that owns the network)", at("ports")...)
	}

	s.Domainname = cs.DomainName
	s.MacAddress = cs.MacAddress
	checkMAC(s.MacAddress, ps, at("mac_address"))
	s.ExtraHosts = extraHosts(cs.ExtraHosts, ps, at("extra_hosts"))
	s.Links = links(cs.Links, func(target string) bool {
		return checkServiceRef(cp, target, "links "+strconv.Quote(target), ps, at("links"))
	})
	s.ExternalLinks = links(cs.ExternalLinks, func(string) bool { return true })
	s.DNS = slices.Clone(cs.DNS)
	for _, ip := range s.DNS {
		if _, err := netip.ParseAddr(ip); err != nil {
			ps.invalid("dns "+strconv.Quote(ip)+" is not an IP address", at("dns")...)
		}
	}
	s.DNSSearch = slices.Clone(cs.DNSSearch)
	s.DNSOpt = slices.Clone(cs.DNSOpts)
}

// serviceAt returns a function building model paths below services.<name>.
func serviceAt(name string) func(keys ...string) []string {
	return func(keys ...string) []string { return slices.Concat([]string{"services", name}, keys) }
}

// checkServiceRef reports whether name is an enabled service of cp, noting
// an ErrInvalid problem for what (e.g. `network_mode "service:db"`) if not.
func checkServiceRef(cp *types.Project, name, what string, ps *problems, path []string) bool {
	if _, ok := cp.Services[name]; ok {
		return true
	}
	if _, ok := cp.DisabledServices[name]; ok {
		ps.invalid(what+": service "+strconv.Quote(name)+" is disabled by the active profiles", path...)
	} else {
		ps.invalid(what+": no service "+strconv.Quote(name)+" in the project", path...)
	}
	return false
}

// impliedDependency makes s start after the service it shares something
// with, as Compose does, unless depends_on already says how.
func impliedDependency(s *Service, name string) {
	if _, ok := s.DependsOn[name]; ok {
		return
	}
	if s.DependsOn == nil {
		s.DependsOn = map[string]Dependency{}
	}
	s.DependsOn[name] = Dependency{Condition: types.ServiceConditionStarted, Required: true}
}

// serviceNetworks converts a service's attachments; compose-go already
// attached services without networks to "default".
func serviceNetworks(in map[string]*types.ServiceNetworkConfig, ps *problems, at []string) map[string]ServiceNetwork {
	out := map[string]ServiceNetwork{}
	for name, n := range in {
		var sn ServiceNetwork
		if n != nil {
			key := func(k string) []string { return slices.Concat(at, []string{name, k}) }
			sn.Aliases = slices.Clone(n.Aliases)
			sn.MacAddress = n.MacAddress
			sn.IPv4Address = parseIP(n.Ipv4Address, true, "ipv4_address", ps, key("ipv4_address"))
			sn.IPv6Address = parseIP(n.Ipv6Address, false, "ipv6_address", ps, key("ipv6_address"))
			checkMAC(sn.MacAddress, ps, key("mac_address"))
		}
		out[name] = sn
	}
	if len(out) == 0 {
		out["default"] = ServiceNetwork{}
	}
	return out
}

// parseIP parses an address of one family, noting one that is not; ""
// is the unset address.
func parseIP(ip string, v4 bool, key string, ps *problems, path []string) netip.Addr {
	if ip == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() != v4 || a.Zone() != "" {
		family := "IPv6"
		if v4 {
			family = "IPv4"
		}
		ps.invalid(key+" "+strconv.Quote(ip)+" is not an "+family+" address", path...)
		return netip.Addr{}
	}
	return a
}

func checkMAC(mac string, ps *problems, path []string) {
	if mac == "" {
		return
	}
	if hw, err := net.ParseMAC(mac); err != nil || len(hw) != 6 {
		ps.invalid("mac_address "+strconv.Quote(mac)+" is not an Ethernet MAC address", path...)
	}
}

// extraHosts turns compose-go's host -> IPs map (from either the list or
// the map syntax, "host:ip" or "host=ip") into "host:ip" entries sorted by
// host, the IPs of one host in file order: the map lost the order of
// different hosts, and only the order of one host's addresses matters to
// a resolver.
func extraHosts(in types.HostsList, ps *problems, path []string) []ExtraHost {
	hosts := make([]string, 0, len(in))
	for h := range in {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	var out []ExtraHost
	for _, h := range hosts {
		for _, ip := range in[h] {
			if ip == "host-gateway" {
				out = append(out, ExtraHost{Name: h, HostGateway: true})
				continue
			}
			a, err := netip.ParseAddr(strings.Trim(ip, "[]"))
			if err != nil {
				ps.invalid("extra_hosts "+strconv.Quote(h)+": "+strconv.Quote(ip)+` is not an IP address or "host-gateway"`, path...)
				continue
			}
			out = append(out, ExtraHost{Name: h, IP: a})
		}
	}
	return out
}

// links parses links or external_links entries, "target[:alias]", keeping
// those whose target ok accepts; sorted by alias.
func links(in []string, ok func(target string) bool) []Link {
	var out []Link
	for _, l := range in {
		target, alias, found := strings.Cut(l, ":")
		if !ok(target) {
			continue
		}
		if !found || alias == "" {
			alias = target
		}
		out = append(out, Link{Target: target, Alias: alias})
	}
	slices.SortFunc(out, func(a, b Link) int { return strings.Compare(a.Alias, b.Alias) })
	return out
}
