package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/topdir"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// peers is what /etc/hosts files are made from, read once for any number
// of containers: every container's recorded service, every endpoint, and
// every network's gateway.
type peers struct {
	services  map[string]spec.Service
	projects  map[string]string // container -> project
	hostnames map[string]string // container -> hostname
	oneOff    map[string]bool   // containers berth run made: known by their aliases, not their service's name
	eps       []store.Endpoint
	gateways  map[string]string // network -> gateway
	published map[string]bool   // containers holding published ports
}

// serves reports whether container c, of service svc, answers to its
// service's name and aliases: not a container whose service publishes
// ports while it holds none, that is a start-first successor before its
// switch or the container it replaced after it.
func (p *peers) serves(c string, svc *spec.Service) bool {
	return p.published[c] || len(svc.Ports) == 0 || svc.NetworkMode != ""
}

// readPeers reads the host's containers, endpoints and networks.
func (e *Engine) readPeers(ctx context.Context) (*peers, error) {
	recs, err := e.store.Containers(ctx, "")
	if err != nil {
		return nil, err
	}
	p := &peers{services: make(map[string]spec.Service, len(recs)), projects: make(map[string]string, len(recs)),
		hostnames: make(map[string]string, len(recs)), gateways: map[string]string{}, oneOff: map[string]bool{}}
	for _, r := range recs {
		if err := e.addPeer(p, r); err != nil {
			return nil, err
		}
	}
	if p.eps, err = e.store.Endpoints(ctx); err != nil {
		return nil, err
	}
	ports, err := e.store.Ports(ctx, "")
	if err != nil {
		return nil, err
	}
	p.published = map[string]bool{}
	for _, pt := range ports {
		p.published[pt.Container] = true
	}
	nets, err := e.store.Networks(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, n := range nets {
		p.gateways[n.Name] = n.Gateway
	}
	return p, nil
}

// hostsFile renders /etc/hosts for container self: every container, of
// any project, that shares a network with self, by service name, container
// name and aliases on that network (a one-off container by its name and
// aliases only); self also by hostname.
func (p *peers) hostsFile(self string) ([]byte, error) {
	mine := map[string]bool{}
	for _, ep := range p.eps {
		if ep.Container == self {
			mine[ep.Network] = true
		}
	}
	entries := make([]network.HostEntry, 0, len(p.eps))
	for _, ep := range p.eps {
		if !mine[ep.Network] {
			continue
		}
		svc, ok := p.services[ep.Container]
		if !ok {
			continue
		}
		ip, err := netip.ParseAddr(ep.Address)
		if err != nil {
			continue
		}
		names := make([]string, 0, 3+len(svc.Networks[ep.Key].Aliases))
		if ep.Container == self {
			names = append(names, p.hostnames[self])
		}
		names = append(names, ep.Container)
		if p.serves(ep.Container, &svc) {
			if !p.oneOff[ep.Container] { // a one-off's aliases name its service only with run --use-aliases
				names = append(names, svc.Name)
			}
			names = append(names, svc.Networks[ep.Key].Aliases...)
		}
		entries = append(entries, network.HostEntry{IP: ip, Names: names})
		if ip6, err := netip.ParseAddr(ep.Address6); err == nil {
			entries = append(entries, network.HostEntry{IP: ip6, Names: names})
		}
	}
	entries = append(entries, p.linkEntries(self, mine)...)
	extra, err := p.extraHosts(self, p.services[self].ExtraHosts)
	if err != nil {
		return nil, err
	}
	return network.HostsFile(append(entries, extra...)), nil
}

// linkEntries are the names self's links and external_links give other
// containers, on a network self is on (mine): a link to a service names
// its first container, an external link the container it names.
func (p *peers) linkEntries(self string, mine map[string]bool) []network.HostEntry {
	svc := p.services[self]
	var out []network.HostEntry
	for _, l := range svc.Links {
		if e, ok := p.linkEntry(l.Alias, mine, func(c string) bool {
			return p.projects[c] == p.projects[self] && p.services[c].Name == l.Target && !p.oneOff[c]
		}); ok {
			out = append(out, e)
		}
	}
	for _, l := range svc.ExternalLinks {
		if e, ok := p.linkEntry(l.Alias, mine, func(c string) bool { return c == l.Target }); ok {
			out = append(out, e)
		}
	}
	return out
}

// linkEntry names alias the first container (by name) that isTarget
// picks and that has an address on a network of mine.
func (p *peers) linkEntry(alias string, mine map[string]bool, isTarget func(container string) bool) (network.HostEntry, bool) {
	var targets []string
	for c := range p.services {
		if isTarget(c) {
			targets = append(targets, c)
		}
	}
	slices.Sort(targets)
	for _, target := range targets {
		for _, ep := range p.eps {
			if ip, err := netip.ParseAddr(ep.Address); err == nil && ep.Container == target && mine[ep.Network] {
				return network.HostEntry{IP: ip, Names: []string{alias}}, true
			}
		}
	}
	return network.HostEntry{}, false
}

// extraHosts turns extra_hosts ("name:ip") into entries; "host-gateway" is
// the gateway of the container's primary network, where the host answers.
func (p *peers) extraHosts(self string, hosts []spec.ExtraHost) ([]network.HostEntry, error) {
	var out []network.HostEntry
	for _, h := range hosts {
		ip := h.IP
		if h.HostGateway {
			var err error
			if ip, err = netip.ParseAddr(p.hostGateway(self)); err != nil {
				return nil, fmt.Errorf("extra_hosts %s:host-gateway: the container's network has no gateway: %w", h.Name, err)
			}
		}
		out = append(out, network.HostEntry{IP: ip, Names: []string{h.Name}})
	}
	return out, nil
}

// hostGateway is the gateway address of container's primary network (its
// first by key, the one its default route and published ports use), or
// 127.0.0.1 for host networking, where the host is right here.
func (p *peers) hostGateway(container string) string {
	var primary *store.Endpoint
	for i, ep := range p.eps {
		if ep.Container == container && (primary == nil || ep.Key < primary.Key) {
			primary = &p.eps[i]
		}
	}
	if primary == nil {
		return "127.0.0.1"
	}
	return p.gateways[primary.Network]
}

// etcNames are the files of a container's /etc that berth writes.
var etcNames = []string{"hostname", "hosts", "resolv.conf"}

// writeEtc writes the container's hosts, hostname and resolv.conf and
// returns their bind mounts. A container sharing another's network
// namespace shares its files too.
func (e *Engine) writeEtc(ctx context.Context, c reconcile.ContainerSpec) ([]runtime.Mount, error) {
	return e.writeEtcIn(ctx, c, e.etcDir(c.Name))
}

// writeEtcIn is writeEtc with the files in dir (Restore: the legacy
// directory of a container made when they were there).
func (e *Engine) writeEtcIn(ctx context.Context, c reconcile.ContainerSpec, dir string) ([]runtime.Mount, error) {
	if c.Shares != "" {
		dir = e.etcDirOf(c.Shares)
	} else {
		files, err := e.etcFiles(ctx, c)
		if err != nil {
			return nil, err
		}
		if dir == e.etcDir(c.Name) {
			e.etcTop.Do(func() {
				// Each container's directory, and its files, in a block
				// group of its own (topdir), as for its runtime directory.
				top := filepath.Dir(dir)
				if os.MkdirAll(top, 0o755) == nil {
					topdir.Mark(top)
				}
			})
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("writing the /etc files of %s: %w", c.Name, err)
		}
		// Each file appears whole (written beside, renamed): Observe
		// takes their presence for the sign that the plumbing is whole.
		for name, data := range files {
			tmp := filepath.Join(dir, "."+name+".new")
			if err := os.WriteFile(tmp, data, 0o644); err != nil {
				return nil, fmt.Errorf("writing %s of %s: %w", name, c.Name, err)
			}
			if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("writing %s of %s: %w", name, c.Name, err)
			}
		}
	}
	var out []runtime.Mount
	for _, name := range etcNames {
		out = append(out, runtime.Mount{Type: "bind", Source: filepath.Join(dir, name), Target: "/etc/" + name})
	}
	return out, nil
}

// etcFiles renders a container's hostname, hosts and resolv.conf.
func (e *Engine) etcFiles(ctx context.Context, c reconcile.ContainerSpec) (map[string][]byte, error) {
	var hosts, name []byte
	err := e.withPeers(ctx, c.Name, func(p *peers) error {
		var err error
		hosts, err = p.hostsFile(c.Name)
		name = []byte(p.hostnames[c.Name] + "\n")
		return err
	})
	if err != nil {
		return nil, err
	}
	resolv, err := network.HostResolvConf()
	if err != nil {
		return nil, err
	}
	if c.Service.NetworkMode != "host" {
		resolv = network.ResolvConf(resolv)
	}
	resolv = withDNS(resolv, c.Service)
	return map[string][]byte{
		"hosts":       hosts,
		"hostname":    name,
		"resolv.conf": resolv,
	}, nil
}

// withDNS applies a service's dns, dns_search and dns_opt to a
// resolv.conf: each given list replaces the file's lines of that kind.
func withDNS(resolv []byte, svc spec.Service) []byte {
	if len(svc.DNS) == 0 && len(svc.DNSSearch) == 0 && len(svc.DNSOpt) == 0 {
		return resolv
	}
	var keep []string
	for _, l := range strings.Split(string(resolv), "\n") {
		f := strings.Fields(l)
		drop := len(f) > 0 && ((f[0] == "nameserver" && len(svc.DNS) > 0) ||
			((f[0] == "search" || f[0] == "domain") && len(svc.DNSSearch) > 0) || (f[0] == "options" && len(svc.DNSOpt) > 0))
		if !drop && strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	for _, ns := range svc.DNS {
		keep = append(keep, "nameserver "+ns)
	}
	if len(svc.DNSSearch) > 0 {
		keep = append(keep, "search "+strings.Join(svc.DNSSearch, " "))
	}
	if len(svc.DNSOpt) > 0 {
		keep = append(keep, "options "+strings.Join(svc.DNSOpt, " "))
	}
	return []byte(strings.Join(keep, "\n") + "\n")
}

// RefreshHosts rewrites, in place, the /etc/hosts of every container of
// project, so that each sees its current peers. The plan names the
// projects whose containers' files need it.
func (e *Engine) RefreshHosts(ctx context.Context, project string) error {
	p, err := e.readPeers(ctx)
	if err != nil {
		return err
	}
	for name, svc := range p.services {
		if p.projects[name] != project || strings.Contains(svc.NetworkMode, ":") {
			continue // another project's, or one using the files of the container whose network it shares
		}
		if err := e.rewriteHosts(p, name); err != nil {
			return err
		}
	}
	return nil
}

// rewriteHosts renders and writes, in place, container name's /etc/hosts.
// A container with no /etc files (being made, or its creation failed) is
// skipped: it writes its own when it is made.
func (e *Engine) rewriteHosts(p *peers, name string) error {
	hosts, err := p.hostsFile(name)
	if err != nil {
		return err
	}
	err = network.WriteFileInPlace(filepath.Join(e.etcDirOf(name), "hosts"), hosts)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("updating /etc/hosts of %s: %w", name, err)
	}
	return nil
}
