package engine

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/berth-dev/berth/image"
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
	in, err := e.Inspector(ctx)
	if err != nil {
		return ContainerDetail{}, err
	}
	return in.Inspect(ctx, name)
}

// Inspector describes containers in full, as Engine.Inspect does, for the
// listings that describe many (ps, inspect): what containers share — their
// records, published ports, endpoints, networks, the volumes' paths and
// their images — is read once, not once a container.
type Inspector struct {
	recordedPlumbing
	e       *Engine
	recs    map[string]store.Container
	volumes map[string]string // host path -> volume name
	images  map[string]*image.Image
}

// Inspector reads what the containers' details share.
func (e *Engine) Inspector(ctx context.Context) (*Inspector, error) {
	in := &Inspector{e: e, recs: map[string]store.Container{}, images: map[string]*image.Image{}}
	recs, err := e.store.Containers(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		in.recs[r.Name] = r
	}
	if in.recordedPlumbing, err = e.recordedPlumbing(ctx); err != nil {
		return nil, err
	}
	in.volumes, err = e.volumePaths(ctx)
	return in, err
}

// Inspect describes container name in full, failing with
// store.ErrNotFound when berth has not made it.
func (in *Inspector) Inspect(ctx context.Context, name string) (ContainerDetail, error) {
	e := in.e
	rec, ok := in.recs[name]
	if !ok {
		return ContainerDetail{}, fmt.Errorf("container %q: %w", name, store.ErrNotFound)
	}
	d := ContainerDetail{ContainerView: viewOf(rec)}
	st, err := e.runtime.State(ctx, name)
	if err != nil {
		return d, err
	}
	cfg, cfgErr := e.runtime.Config(name)
	fillLive(&d.ContainerView, st, cfg, cfgErr, in.ports[name])
	d.Pid, d.Restarts, d.OOMKilled = st.Pid, st.Restarts, st.OOMKilled
	svc, err := spec.ParseCanonical(rec.Spec)
	if err != nil {
		return d, fmt.Errorf("reading the recorded spec of %s: %w", name, err)
	}
	d.NetworkMode = svc.NetworkMode
	if img := in.image(rec.ImageID); img != nil {
		d.Entrypoint, d.Cmd = reconcile.EntrypointAndCmd(svc, imageConfig(img.Config))
		d.Exposed = img.Config.ExposedPorts
	}
	d.Exposed = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(d.Exposed), svc.Expose...))))
	if d.State == lifecycle.Missing {
		return d, nil // its configuration went with it: the record is all there is
	}
	if cfgErr != nil {
		return d, fmt.Errorf("inspecting %s: %w", name, cfgErr)
	}
	d.Args, d.Env, d.WorkingDir, d.User, d.Hostname, d.Domainname = cfg.Args, cfg.Env, cfg.Cwd, cfg.User, cfg.Hostname, cfg.Domainname
	d.Tty, d.OpenStdin, d.StdinOnce = cfg.Tty, cfg.OpenStdin, cfg.StdinOnce
	d.StopSignal, d.Restart = cfg.StopSignal, cfg.Restart
	d.Limits, d.Log = cfg.Resources, cfg.Log
	if d.Entrypoint == nil && d.Cmd == nil { // the image is gone: what runs is all there is to show
		d.Cmd = cfg.Args
	}
	etc := e.etcDirOf(name) + string(os.PathSeparator)
	for _, m := range cfg.Mounts {
		if strings.HasPrefix(m.Source, etc) {
			continue // /etc/hosts, hostname and resolv.conf are not mounts to Docker
		}
		mv := MountView{Type: m.Type, Source: m.Source, Destination: m.Target, ReadOnly: m.ReadOnly}
		if v, ok := in.volumes[m.Source]; ok && m.Type == "bind" {
			mv.Type, mv.Name = "volume", v
		}
		if m.Type == "tmpfs" {
			mv.Source = ""
		}
		d.Mounts = append(d.Mounts, mv)
	}
	d.Networks, err = in.endpointDetails(name, svc)
	return d, err
}

// image is the local image id, nil when it is gone.
func (in *Inspector) image(id string) *image.Image {
	img, seen := in.images[id]
	if !seen {
		img, _, _ = in.e.Images.Lookup(id)
		in.images[id] = img
	}
	return img
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
func (in *Inspector) endpointDetails(name string, svc spec.Service) ([]NetworkEndpoint, error) {
	var out []NetworkEndpoint
	for i, key := range sortedNetworkKeys(svc) {
		for _, ep := range in.endpoints[name] {
			if ep.Key != key {
				continue
			}
			n, ok := in.nets[ep.Network]
			if !ok {
				return nil, fmt.Errorf("network %q: %w", ep.Network, store.ErrNotFound)
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
