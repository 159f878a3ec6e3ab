package engine

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/spec"
)

// hostsFile renders /etc/hosts for container self of project: every
// container of the project that shares a network with self, by service
// name, container name and aliases on that network; self also by hostname.
func (e *Engine) hostsFile(ctx context.Context, project, self string) ([]byte, error) {
	recs, err := e.Store.Containers(ctx, project)
	if err != nil {
		return nil, err
	}
	eps, err := e.Store.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	nets, err := e.Store.Networks(ctx, project)
	if err != nil {
		return nil, err
	}
	keyOf := map[string]string{}
	for _, n := range nets {
		keyOf[n.Name] = n.Key
	}
	svcOf := map[string]spec.Service{}
	for _, r := range recs {
		svc, err := spec.ParseCanonical(r.Spec)
		if err != nil {
			return nil, fmt.Errorf("reading the recorded spec of %s: %w", r.Name, err)
		}
		svcOf[r.Name] = svc
	}
	mine := map[string]bool{}
	for _, ep := range eps {
		if ep.Container == self {
			mine[ep.Network] = true
		}
	}
	var entries []network.HostEntry
	for _, ep := range eps {
		svc, ok := svcOf[ep.Container]
		if !ok || !mine[ep.Network] {
			continue
		}
		ip, err := netip.ParseAddr(ep.Address)
		if err != nil {
			continue
		}
		var names []string
		if ep.Container == self {
			names = append(names, first(svc.Hostname, shortID(self)))
		}
		names = append(names, ep.Container, svc.Name)
		names = append(names, svc.Networks[keyOf[ep.Network]].Aliases...)
		entries = append(entries, network.HostEntry{IP: ip, Names: names})
	}
	return network.HostsFile(entries), nil
}

// RefreshHosts rewrites the /etc/hosts of every container of project, in
// place, so that each sees its current peers.
func (e *Engine) RefreshHosts(ctx context.Context, project string) error {
	recs, err := e.Store.Containers(ctx, project)
	if err != nil {
		return err
	}
	for _, r := range recs {
		hosts, err := e.hostsFile(ctx, project, r.Name)
		if err != nil {
			return err
		}
		if err := network.WriteFileInPlace(filepath.Join(e.etcDir(r.Name), "hosts"), hosts); err != nil {
			return fmt.Errorf("updating /etc/hosts of %s: %w", r.Name, err)
		}
	}
	return nil
}
