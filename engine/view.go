package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
)

// This file is what the CLI reads of the host: plain views of berth's
// records and the kernel, so that the CLI never reaches the store, the
// runtime or the network itself.

// ContainerView is what the CLI shows of one container.
type ContainerView struct {
	ID                     string // 64 hex digits, new with each creation
	Name, Project, Service string
	Number                 int
	Image, ImageID         string // the reference the service names, and the image it resolved to
	Created                time.Time
	Labels                 map[string]string
	// With live state only:
	State                 lifecycle.Status
	ExitCode              int
	Health                string // "" without a health check
	Unsupervised          bool   // it runs, but its shim died: no logs, restarts or health checks until up restarts it
	StartedAt, FinishedAt time.Time
	Command               []string
	Tty, OpenStdin        bool // made with tty: true, stdin_open: true
	Ports                 []PortView
}

// PortView is one published port of a container.
type PortView struct {
	HostIP                  string // "" for every address
	HostPort, ContainerPort int
	Protocol                string
}

// Containers lists a project's containers, those of the named services
// only when any are named; with live, their state, command and ports too.
func (e *Engine) Containers(ctx context.Context, project string, services []string, live bool) ([]ContainerView, error) {
	recs, err := e.store.Containers(ctx, project)
	if err != nil {
		return nil, err
	}
	var out []ContainerView
	for _, r := range recs {
		if len(services) > 0 && !slices.Contains(services, r.Service) {
			continue
		}
		v := viewOf(r)
		if live {
			if err := e.describe(ctx, &v); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func (e *Engine) describe(ctx context.Context, v *ContainerView) error {
	st, err := e.runtime.State(ctx, v.Name)
	if err != nil {
		return err
	}
	cfg, cfgErr := e.runtime.Config(v.Name)
	ports, err := e.store.Ports(ctx, v.Name)
	if err != nil {
		return err
	}
	fillLive(v, st, cfg, cfgErr, ports)
	return nil
}

// fillLive fills in v's live part: its state, the command it runs (from cfg,
// unless cfgErr) and its published ports.
func fillLive(v *ContainerView, st runtime.State, cfg runtime.Config, cfgErr error, ports []store.Port) {
	v.State, v.ExitCode, v.Health, v.StartedAt, v.FinishedAt = st.Status, st.ExitCode, st.Health, st.StartedAt, st.FinishedAt
	v.Unsupervised = st.Status.Active() && !st.Shim
	if cfgErr == nil {
		v.Command, v.Tty, v.OpenStdin = cfg.Args, cfg.Tty, cfg.OpenStdin
	}
	for _, p := range ports {
		v.Ports = append(v.Ports, PortView{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
	}
}

// LogOptions choose which lines Logs reads.
type LogOptions = runtime.LogOptions

// LogLine is one line of a container's output.
type LogLine = runtime.LogLine

// Logs reads container name's log, line by line, into fn.
func (e *Engine) Logs(ctx context.Context, name string, o LogOptions, fn func(LogLine) error) error {
	if c, err := e.runtime.Config(name); err == nil && c.Log != nil && c.Log.Driver == "none" {
		return fmt.Errorf("%s: %w", name, ErrLogsNotRead)
	}
	return runtime.ReadLogs(ctx, e.runtime.LogPath(name), o, fn)
}

// NetworkView is what the CLI shows of one network.
type NetworkView struct {
	Name, Project, Bridge    string
	Subnet, Gateway, IPRange string
	Internal                 bool
	MTU                      int // 0: the kernel default
	Labels                   map[string]string
	Endpoints                []EndpointView
}

// EndpointView is one container's address on a network.
type EndpointView struct {
	Container, Address string
}

// Networks lists every network berth made, of any project.
func (e *Engine) Networks(ctx context.Context) ([]NetworkView, error) {
	nets, err := e.store.Networks(ctx, "")
	if err != nil {
		return nil, err
	}
	eps, err := e.store.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]NetworkView, 0, len(nets))
	for _, n := range nets {
		v := NetworkView{Name: n.Name, Project: n.Project, Bridge: n.Bridge, Subnet: n.Subnet, Gateway: n.Gateway, IPRange: n.IPRange,
			Internal: n.Internal, MTU: n.MTU, Labels: n.Labels}
		for _, ep := range eps {
			if ep.Network == n.Name {
				v.Endpoints = append(v.Endpoints, EndpointView{Container: ep.Container, Address: ep.Address})
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// Network describes network name, failing when berth has not made it.
func (e *Engine) Network(ctx context.Context, name string) (NetworkView, error) {
	all, err := e.Networks(ctx)
	if err != nil {
		return NetworkView{}, err
	}
	for _, n := range all {
		if n.Name == name {
			return n, nil
		}
	}
	return NetworkView{}, fmt.Errorf("network %s: %w", name, store.ErrNotFound)
}

// VolumeView is what the CLI shows of one volume.
type VolumeView struct {
	Name       string
	Labels     map[string]string
	Mountpoint string            // "" for a tmpfs volume
	Options    map[string]string // the local driver's type, o and device, when set
	Created    time.Time
}

// Volumes lists every volume berth made, of any project.
func (e *Engine) Volumes(ctx context.Context) ([]VolumeView, error) {
	recs, err := e.store.Volumes(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]VolumeView, 0, len(recs))
	for _, r := range recs {
		in, err := e.volumes.Inspect(r.Name)
		if err != nil {
			return nil, err
		}
		v := VolumeView{Name: r.Name, Labels: r.Labels, Mountpoint: in.Mountpoint, Created: in.CreatedAt, Options: map[string]string{}}
		for k, o := range map[string]string{"type": in.Options.Type, "o": in.Options.O, "device": in.Options.Device} {
			if o != "" {
				v.Options[k] = o
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// imageUsers maps the ID of every image a container was made from to
// the containers made from it.
func (e *Engine) imageUsers(ctx context.Context) (map[string][]string, error) {
	recs, err := e.store.Containers(ctx, "")
	if err != nil {
		return nil, err
	}
	used := map[string][]string{}
	for _, r := range recs {
		used[r.ImageID] = append(used[r.ImageID], r.Name)
	}
	return used, nil
}

// HostView is what `berth info` reports of the host.
type HostView struct {
	Table                                 string `json:"-"` // berth's nftables table
	CgroupParent                          string
	Containers, Networks, Volumes, Images int
	SysctlsChanged                        []network.SysctlChange
}

// Host describes berth's footprint on the host.
func (e *Engine) Host(ctx context.Context) (HostView, error) {
	h := HostView{Table: e.net.Table(), CgroupParent: HostName(e.Root)}
	cs, _ := e.store.Containers(ctx, "")
	ns, _ := e.store.Networks(ctx, "")
	vs, _ := e.store.Volumes(ctx, "")
	is, _ := e.Images.List()
	h.Containers, h.Networks, h.Volumes, h.Images = len(cs), len(ns), len(vs), len(is)
	var err error
	h.SysctlsChanged, err = e.net.Sysctls()
	return h, err
}

// LockProject takes the lock that serialises berth's runs on one project.
func (e *Engine) LockProject(ctx context.Context, project string) (unlock func(), err error) {
	return store.LockProject(ctx, e.RunRoot, project)
}
