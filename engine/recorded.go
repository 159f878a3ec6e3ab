package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// RecordedProject is project name as berth recorded it, for the commands
// Docker Compose runs without a compose file (`-p NAME ps`, `down`,
// `stop`...), rebuilding the project from its containers' labels as
// Compose does: each service from its containers' recorded spec (its
// scale their count), and the networks and volumes berth made for it or
// its containers use. A name berth knows nothing of is an error wrapping
// spec.ErrNoComposeFile.
func (e *Engine) RecordedProject(ctx context.Context, name string) (*spec.Project, error) {
	recs, err := e.store.Containers(ctx, name)
	if err != nil {
		return nil, err
	}
	nets, err := e.store.Networks(ctx, name)
	if err != nil {
		return nil, err
	}
	vols, err := e.store.Volumes(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(recs)+len(nets)+len(vols) == 0 {
		return nil, fmt.Errorf("%w, and berth has nothing recorded for project %q", spec.ErrNoComposeFile, name)
	}
	eps, err := e.store.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	return recordedProject(name, recs, nets, vols, eps)
}

// recordedProject assembles RecordedProject's project from the records.
func recordedProject(name string, recs []store.Container, nets []store.Network, vols []store.Volume, eps []store.Endpoint) (*spec.Project, error) {
	p := &spec.Project{Name: name, Networks: map[string]spec.Network{}, Volumes: map[string]spec.Volume{},
		Configs: map[string]spec.FileSource{}, Secrets: map[string]spec.FileSource{}}
	for _, n := range nets {
		p.Networks[n.Key] = spec.Network{Name: n.Name, Driver: "bridge", Internal: n.Internal, Labels: n.Labels, MTU: n.MTU}
	}
	for _, v := range vols {
		if _, _, anon := reconcile.AnonymousOwner(v.Key); !anon {
			p.Volumes[v.Key] = spec.Volume{Name: v.Name, Driver: "local", Labels: v.Labels}
		}
	}
	ours := map[string]bool{}
	services := map[string]*spec.Service{}
	for _, r := range recs {
		ours[r.Name] = true
		if r.Labels[labelOneOff] == "True" {
			continue
		}
		svc, err := spec.ParseCanonical(r.Spec)
		if err != nil {
			return nil, fmt.Errorf("reading the recorded spec of %s: %w", r.Name, err)
		}
		recordedSources(p, r)
		if have, ok := services[r.Service]; ok {
			have.Scale = max(have.Scale, r.Number)
			continue
		}
		svc.Name, svc.Scale = r.Service, r.Number
		services[r.Service] = &svc
	}
	// A network its containers are on that the project did not make is
	// another's: external here.
	for _, ep := range eps {
		if _, known := p.Networks[ep.Key]; ours[ep.Container] && !known {
			p.Networks[ep.Key] = spec.Network{Name: ep.Network, Driver: "bridge", External: true}
		}
	}
	for _, svc := range services {
		for _, m := range svc.Mounts {
			if _, known := p.Volumes[m.Source]; m.Type == spec.MountVolume && m.Source != "" && !known {
				p.Volumes[m.Source] = spec.Volume{Name: m.Source, Driver: "local", External: true}
			}
		}
		p.Services = append(p.Services, *svc)
	}
	slices.SortFunc(p.Services, func(a, b spec.Service) int { return strings.Compare(a.Name, b.Name) })
	return p, nil
}

// recordedSources adds to p the config and secret sources container r
// recorded, each with the digest of its content now ("" for a file gone
// or unreadable, an environment variable, a secret not made from a
// file), for the planner to check against the digest r recorded.
func recordedSources(p *spec.Project, r store.Container) {
	for k, rs := range reconcile.ParseSources(r.Labels[labelSources]) {
		kind, key, _ := strings.Cut(k, " ")
		set := p.Configs
		if kind == "secret" {
			set = p.Secrets
		}
		if _, ok := set[key]; ok {
			continue
		}
		fs := spec.FileSource{File: rs.File, Environment: rs.Environment}
		if rs.Content != nil && kind == "config" {
			fs.Content = *rs.Content
		}
		if fs.File != "" || rs.Content != nil && kind == "config" {
			fs.Digest = spec.ContentDigest(fs, "")
		}
		set[key] = fs
	}
}
