package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/build"
	"github.com/berth-dev/berth/internal/atomicfile"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// BuildProgress is one step event of the build of a service's image.
type BuildProgress struct {
	Service string
	Image   string
	Event   build.Event
}

// WithBuildProgress receives the progress of every build, step by step.
func WithBuildProgress(fn func(BuildProgress)) Option {
	return func(e *Engine) error { e.buildProgress = fn; return nil }
}

// Build builds a service's image from its build section, tags it with the
// section's tags too, and records what it was built from (for the
// planner's "Dockerfile changed"). RUN steps get the network the action
// names (the service's first network, for egress), the host's, or
// loopback only.
func (e *Engine) Build(ctx context.Context, b reconcile.BuildSpec) error {
	o := buildOptions(b.Build, b.Image)
	in, err := buildInputs(b.Build)
	if err != nil {
		return err
	}
	o.Progress = func(ev build.Event) {
		if e.buildProgress != nil {
			e.buildProgress(BuildProgress{Service: b.Service, Image: b.Image, Event: ev})
		}
	}
	o.Network = e.runNetwork(b)
	if len(b.Build.Labels) > 0 {
		o.Tag = "" // tagged once labelled
	}
	img, err := build.Build(ctx, e.Images, e.runtime, o)
	if err != nil {
		return err
	}
	if len(b.Build.Labels) > 0 {
		if img, err = e.relabel(ctx, img, b.Build.Labels, b.Image); err != nil {
			return err
		}
	}
	for _, t := range b.Build.Tags {
		if err := e.Images.Tag(b.Image, t); err != nil {
			return fmt.Errorf("tagging %s as %s: %w", b.Image, t, err)
		}
	}
	return e.recordBuild(img.ID, in)
}

// buildOptions are the builder's options for a build section.
func buildOptions(b spec.Build, tag string) build.Options {
	return build.Options{Context: b.Context, Dockerfile: b.Dockerfile, DockerfileInline: b.DockerfileInline, Target: b.Target,
		Args: b.Args, Tag: tag, NoCache: b.NoCache, Pull: b.Pull, Secrets: b.Secrets,
		NamedContexts: b.AdditionalContexts, ShmSize: b.ShmSize}
}

// buildInputs digests what a build section reads.
func buildInputs(b spec.Build) (reconcile.BuildInputs, error) {
	in, err := build.ReadInputs(buildOptions(b, ""))
	if err != nil {
		return reconcile.BuildInputs{}, err
	}
	args, err := json.Marshal(struct {
		Args   map[string]string `json:"args"`
		Target string            `json:"target"`
		Labels map[string]string `json:"labels,omitempty"`
	}{b.Args, b.Target, b.Labels})
	if err != nil {
		return reconcile.BuildInputs{}, err
	}
	sum := sha256.Sum256(args)
	return reconcile.BuildInputs{Dockerfile: in.Dockerfile, Context: in.Context, Args: hex.EncodeToString(sum[:])}, nil
}

// buildRecord is where what image id was built from is kept.
func (e *Engine) buildRecord(id string) string {
	return filepath.Join(e.Root, "builds", strings.TrimPrefix(id, "sha256:")+".json")
}

// recordBuild keeps what image id was built from (in), for builtFrom. It
// is replaced whole but not synced: a record a crash of the host loses
// leaves the image's inputs unknown, as for an image berth did not build.
func (e *Engine) recordBuild(id string, in reconcile.BuildInputs) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	p := e.buildRecord(id)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("recording the build of %s: %w", id, err)
	}
	if err := atomicfile.Write(p, data); err != nil {
		return fmt.Errorf("recording the build of %s: %w", id, err)
	}
	return nil
}

// builtFrom is what image id was built from, when berth built it.
func (e *Engine) builtFrom(id string) (reconcile.BuildInputs, bool) {
	data, err := os.ReadFile(e.buildRecord(id))
	if err != nil {
		return reconcile.BuildInputs{}, false
	}
	var in reconcile.BuildInputs
	return in, json.Unmarshal(data, &in) == nil
}

// observeBuilds notes, for each service of p that builds an image berth
// built, what it was built from and what its build reads now. Inputs
// that cannot be read now (a missing Dockerfile) are left to the build
// to report.
func (e *Engine) observeBuilds(p *spec.Project, obs *reconcile.Observed) {
	for _, s := range p.Services {
		if s.Build == nil {
			continue
		}
		id, ok := obs.Images[s.Image]
		if !ok {
			continue
		}
		built, ok := e.builtFrom(id)
		if !ok {
			continue
		}
		in, err := buildInputs(*s.Build)
		if err != nil {
			continue
		}
		if obs.Builds == nil {
			obs.Builds = map[string]reconcile.BuildState{}
		}
		obs.Builds[s.Image] = reconcile.BuildState{Inputs: in, Built: &built}
	}
}

// runNetwork gives each RUN of build b its network: the host's with
// `network: host`; with `none` loopback only; else a fresh namespace
// with an address on the project network the action names (egress as a
// service's container has), when it names one.
func (e *Engine) runNetwork(b reconcile.BuildSpec) func(context.Context) (build.RunNetwork, error) {
	return func(ctx context.Context) (build.RunNetwork, error) {
		name := b.Project + "-build-" + randomHex(6)
		dir := e.etcDir(name)
		rn := build.RunNetwork{Release: func() { os.RemoveAll(dir) }}
		gateway := netip.AddrFrom4([4]byte{127, 0, 0, 1})
		resolv, err := network.HostResolvConf()
		if err != nil {
			return rn, err
		}
		switch {
		case b.Build.Network == "host":
			rn.NetNS = "host"
		case b.Network != nil:
			ns, gw, err := e.joinBuildNetwork(ctx, name, b)
			if err != nil {
				e.leaveBuildNetwork(name, b)
				return rn, err
			}
			rn.NetNS, gateway, resolv = ns, gw, network.ResolvConf(resolv)
			rn.Release = func() { e.leaveBuildNetwork(name, b); os.RemoveAll(dir) }
		default:
			resolv = network.ResolvConf(resolv)
		}
		entries := []network.HostEntry{}
		for _, h := range b.Build.ExtraHosts {
			ip := h.IP
			if h.HostGateway {
				ip = gateway
			}
			entries = append(entries, network.HostEntry{IP: ip, Names: []string{h.Name}})
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			rn.Release()
			return rn, fmt.Errorf("creating %s: %w", dir, err)
		}
		rn.ResolvConf, rn.Hosts = filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "hosts")
		hosts := network.HostsFile(entries)
		if b.Build.Network == "host" { // the host's, with the extra hosts
			if hosts, err = os.ReadFile("/etc/hosts"); err != nil {
				rn.Release()
				return rn, fmt.Errorf("reading the host's /etc/hosts: %w", err)
			}
			for _, h := range entries {
				hosts = fmt.Appendf(hosts, "%s\t%s\n", h.IP, strings.Join(h.Names, " "))
			}
		}
		if err := errors.Join(os.WriteFile(rn.ResolvConf, resolv, 0o644), os.WriteFile(rn.Hosts, hosts, 0o644)); err != nil {
			rn.Release()
			return rn, fmt.Errorf("writing the RUN's /etc files: %w", err)
		}
		return rn, nil
	}
}

// joinBuildNetwork makes network namespace for a RUN called name, linked
// to b's network with an address recorded as a container's is, and
// returns its path and the network's gateway.
func (e *Engine) joinBuildNetwork(ctx context.Context, name string, b reconcile.BuildSpec) (string, netip.Addr, error) {
	ns := e.netnsPath(name)
	if err := network.CreateNetNS(ns); err != nil {
		return "", netip.Addr{}, err
	}
	c := reconcile.ContainerSpec{Project: b.Project, Name: name, Networks: map[string]spec.Network{b.NetworkKey: *b.Network},
		Service: spec.Service{Name: b.Service, Networks: map[string]spec.ServiceNetwork{b.NetworkKey: {}}}}
	l, err := e.link(ctx, c, b.NetworkKey, 0)
	if err != nil {
		return "", netip.Addr{}, fmt.Errorf("joining network %s: %w", b.Network.Name, err)
	}
	if err := e.net.Attach(ns, l); err != nil {
		return "", netip.Addr{}, fmt.Errorf("joining network %s: %w", b.Network.Name, err)
	}
	return ns, l.Bridge.Gateway, nil
}

// leaveBuildNetwork undoes joinBuildNetwork, whatever of it was done.
func (e *Engine) leaveBuildNetwork(name string, b reconcile.BuildSpec) {
	ctx := context.Background()
	_ = e.net.Detach(network.Link{HostVeth: e.vethName(name, b.Network.Name)})
	_ = network.RemoveNetNS(e.netnsPath(name))
	_ = e.store.DeleteContainer(ctx, name) // its endpoint
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
