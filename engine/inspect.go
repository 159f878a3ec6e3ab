package engine

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// ContainerDetail is everything `berth inspect` shows of one container:
// its view with live state, and what it was made with.
type ContainerDetail struct {
	ContainerView
	Pid, Restarts int
	OOMKilled     bool       // the OOM killer killed a process of its last run
	Limits        *Limits    // its cgroup limits; nil for none
	Log           *LogConfig // its logging; nil: json-file with berth's default rotation
	// As the container runs them: the merged entrypoint and command, the
	// complete environment, and the rest of its process settings.
	Args                 []string
	Entrypoint, Cmd      []string // as Docker's Config has them: the service's, else the image's
	Env                  []string
	WorkingDir, User     string
	Hostname, Domainname string
	StopSignal           string
	Restart              string // "no", "always", "on-failure[:N]", "unless-stopped"
	StdinOnce            bool
	NetworkMode          string // "", "host", "none", "service:X", "container:X"
	Mounts               []MountView
	Networks             []NetworkEndpoint
	Exposed              []string // the image's EXPOSE ports and the service's expose:, "80/tcp", sorted
}

// MountView is one of a container's mounts, as Docker lists them.
type MountView struct {
	Type        string // "volume", "bind" or "tmpfs"
	Name        string // the volume's name
	Source      string // host path ("" for a tmpfs)
	Destination string
	ReadOnly    bool
}

// NetworkEndpoint is a container's place on one network.
type NetworkEndpoint struct {
	Network          string
	Aliases          []string // container name, service name, then the service's aliases on it
	Address, Gateway string
	PrefixLen        int
	Address6         string // "" without IPv6
	Gateway6         string
	PrefixLen6       int
	MAC              string
}

// Inspect describes container name in full, failing with
// store.ErrNotFound when berth has not made it.
func (e *Engine) Inspect(ctx context.Context, name string) (ContainerDetail, error) {
	rec, err := e.store.Container(ctx, name)
	if err != nil {
		return ContainerDetail{}, err
	}
	d := ContainerDetail{ContainerView: viewOf(rec)}
	if err := e.describe(ctx, &d.ContainerView); err != nil {
		return d, err
	}
	st, err := e.runtime.State(ctx, name)
	if err != nil {
		return d, err
	}
	d.Pid, d.Restarts, d.OOMKilled = st.Pid, st.Restarts, st.OOMKilled
	svc, err := spec.ParseCanonical(rec.Spec)
	if err != nil {
		return d, fmt.Errorf("reading the recorded spec of %s: %w", name, err)
	}
	d.NetworkMode = svc.NetworkMode
	if img, _, err := e.Images.Lookup(rec.ImageID); err == nil {
		d.Entrypoint, d.Cmd = reconcile.EntrypointAndCmd(svc, imageConfig(img.Config))
		d.Exposed = img.Config.ExposedPorts
	}
	d.Exposed = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(d.Exposed), svc.Expose...))))
	if d.State == lifecycle.Missing {
		return d, nil // its configuration went with it: the record is all there is
	}
	cfg, err := e.runtime.Config(name)
	if err != nil {
		return d, fmt.Errorf("inspecting %s: %w", name, err)
	}
	d.Args, d.Env, d.WorkingDir, d.User, d.Hostname, d.Domainname = cfg.Args, cfg.Env, cfg.Cwd, cfg.User, cfg.Hostname, cfg.Domainname
	d.Tty, d.OpenStdin, d.StdinOnce = cfg.Tty, cfg.OpenStdin, cfg.StdinOnce
	d.StopSignal, d.Restart = cfg.StopSignal, cfg.Restart
	d.Limits, d.Log = cfg.Resources, cfg.Log
	if d.Entrypoint == nil && d.Cmd == nil { // the image is gone: what runs is all there is to show
		d.Cmd = cfg.Args
	}
	volumes, err := e.volumePaths(ctx)
	if err != nil {
		return d, err
	}
	etc := e.etcDirOf(name) + string(os.PathSeparator)
	for _, m := range cfg.Mounts {
		if strings.HasPrefix(m.Source, etc) {
			continue // /etc/hosts, hostname and resolv.conf are not mounts to Docker
		}
		mv := MountView{Type: m.Type, Source: m.Source, Destination: m.Target, ReadOnly: m.ReadOnly}
		if v, ok := volumes[m.Source]; ok && m.Type == "bind" {
			mv.Type, mv.Name = "volume", v
		}
		if m.Type == "tmpfs" {
			mv.Source = ""
		}
		d.Mounts = append(d.Mounts, mv)
	}
	d.Networks, err = e.endpointDetails(ctx, name, svc)
	return d, err
}

// viewOf is the recorded part of a container's view.
func viewOf(r store.Container) ContainerView {
	return ContainerView{ID: r.ID, Name: r.Name, Project: r.Project, Service: r.Service, Number: r.Number, Image: r.ImageRef,
		ImageID: r.ImageID, Created: r.CreatedAt, Labels: r.Labels}
}

// volumePaths maps the host path of every volume berth made to its name.
func (e *Engine) volumePaths(ctx context.Context) (map[string]string, error) {
	recs, err := e.store.Volumes(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(recs))
	for _, r := range recs {
		if src, err := e.volumes.Source(r.Name); err == nil && src.Path != "" {
			out[src.Path] = r.Name
		}
	}
	return out, nil
}

// endpointDetails are container name's places on its networks, in the
// order of its interfaces (eth0 first).
func (e *Engine) endpointDetails(ctx context.Context, name string, svc spec.Service) ([]NetworkEndpoint, error) {
	eps, err := e.endpointsOf(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []NetworkEndpoint
	for i, key := range sortedNetworkKeys(svc) {
		for _, ep := range eps {
			if ep.Key != key {
				continue
			}
			n, err := e.store.Network(ctx, ep.Network)
			if err != nil {
				return nil, err
			}
			sn := svc.Networks[key]
			ne := NetworkEndpoint{Network: ep.Network, Aliases: append([]string{name, svc.Name}, sn.Aliases...),
				Address: ep.Address, Gateway: n.Gateway, Address6: ep.Address6}
			if p, err := netip.ParsePrefix(n.Subnet); err == nil {
				ne.PrefixLen = p.Bits()
			}
			if ep.Address6 != "" {
				ne.Gateway6 = n.Gateway6
				if p, err := netip.ParsePrefix(n.Subnet6); err == nil {
					ne.PrefixLen6 = p.Bits()
				}
			}
			ne.MAC = configuredMAC(svc, key, i)
			if a, err := netip.ParseAddr(ep.Address); ne.MAC == "" && err == nil {
				ne.MAC = network.MACFor(a).String()
			}
			out = append(out, ne)
		}
	}
	return out, nil
}
