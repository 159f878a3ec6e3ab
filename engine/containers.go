package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
	"github.com/berth-dev/berth/volume"
)

// Create makes container c and starts it. It records the container first,
// so that whatever it made before a failure is found and removed by the
// next reconcile (the container then observes as missing and is recreated).
func (e *Engine) Create(ctx context.Context, c reconcile.ContainerSpec) error {
	svc := c.Service
	img, err := e.Images.Get(svc.Image)
	if err != nil {
		return fmt.Errorf("image %q: %w", svc.Image, err)
	}
	layers, err := e.Images.Snapshots(ctx, img)
	if err != nil {
		return err
	}
	if err := e.Store.PutContainer(ctx, store.Container{Name: c.Name, Project: c.Project, Service: svc.Name, Number: c.Number,
		ConfigHash: c.Hash, ImageRef: svc.Image, ImageID: img.ID, Spec: svc.Canonical(), CreatedAt: time.Now()}); err != nil {
		return err
	}
	hostname := first(svc.Hostname, shortID(c.Name))
	args, err := processArgs(img.Config, svc)
	if err != nil {
		return err
	}
	cfg := runtime.Config{ID: c.Name, Layers: layers, Args: args, Env: processEnv(img.Config, svc, hostname),
		Cwd: first(svc.WorkingDir, img.Config.WorkingDir, "/"), User: first(svc.User, img.Config.User), Hostname: hostname,
		ReadOnlyRootfs: svc.ReadOnly, StopSignal: first(svc.StopSignal, img.Config.StopSignal), Restart: svc.Restart,
		Labels: map[string]string{"com.docker.compose.project": c.Project, "com.docker.compose.service": svc.Name,
			"com.docker.compose.container-number": strconv.Itoa(c.Number)}}
	if svc.StopGracePeriod != nil {
		cfg.StopTimeout = *svc.StopGracePeriod
	}
	if cfg.NetNS, err = e.attach(ctx, c); err != nil {
		return err
	}
	if cfg.Mounts, err = e.mounts(ctx, c); err != nil {
		return err
	}
	if err := e.Runtime.Start(ctx, cfg); err != nil {
		return err
	}
	return e.publish(ctx, c)
}

// attach gives the container its network namespace, joined to each of its
// networks with a stable address, and returns the namespace path for the
// runtime ("host" for network_mode host, "" for a fresh empty one).
func (e *Engine) attach(ctx context.Context, c reconcile.ContainerSpec) (string, error) {
	switch c.Service.NetworkMode {
	case "host":
		return "host", nil
	case "none":
		return "", nil
	}
	ns := e.netnsPath(c.Name)
	if err := network.CreateNetNS(ns); err != nil {
		return "", err
	}
	keys := make([]string, 0, len(c.Service.Networks))
	for k := range c.Service.Networks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, key := range keys {
		n := c.Networks[key]
		rec, err := e.Store.Network(ctx, n.Name)
		if err != nil {
			return "", err
		}
		b, err := bridgeOf(rec)
		if err != nil {
			return "", err
		}
		addr, err := e.Store.AllocateEndpoint(ctx, c.Name, n.Name, func(used []string) (string, error) {
			var taken []netip.Addr
			for _, u := range used {
				if a, err := netip.ParseAddr(u); err == nil {
					taken = append(taken, a)
				}
			}
			if want := c.Service.Networks[key].IPv4Address; want != "" {
				return want, nil
			}
			a, err := network.PickAddress(b.Subnet, b.Gateway, taken)
			return a.String(), err
		})
		if err != nil {
			return "", err
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			return "", err
		}
		l := network.Link{Bridge: b, HostVeth: network.VethName(e.Root+"\x00"+c.Name, n.Name), IfName: "eth" + strconv.Itoa(i),
			Addr: netip.PrefixFrom(ip, b.Subnet.Bits()), DefaultRoute: i == 0}
		if err := e.Net.Attach(ns, l); err != nil {
			return "", err
		}
	}
	return ns, nil
}

// mounts turns the service's volumes, binds and tmpfs into runtime mounts,
// checking every source first, and adds the generated /etc files.
func (e *Engine) mounts(ctx context.Context, c reconcile.ContainerSpec) ([]runtime.Mount, error) {
	var out []runtime.Mount
	for _, m := range c.Service.Mounts {
		switch m.Type {
		case spec.MountVolume:
			if m.Source == "" {
				return nil, fmt.Errorf("anonymous volume at %s: not supported by berth yet", m.Target)
			}
			v := c.Volumes[m.Source]
			if !e.Volumes.Exists(v.Name) {
				return nil, fmt.Errorf("volume %s does not exist", v.Name)
			}
			out = append(out, runtime.Mount{Type: "bind", Source: e.Volumes.Path(v.Name), Target: m.Target, ReadOnly: m.ReadOnly})
		case spec.MountBind:
			if err := volume.PrepareBind(m.Source, m.CreateHostPath); err != nil {
				return nil, err
			}
			out = append(out, runtime.Mount{Type: "bind", Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
		case spec.MountTmpfs:
			var opts []string
			if m.TmpfsSize > 0 {
				opts = append(opts, "size="+strconv.FormatInt(m.TmpfsSize, 10))
			}
			if m.TmpfsMode != 0 {
				opts = append(opts, "mode="+strconv.FormatUint(uint64(m.TmpfsMode), 8))
			}
			out = append(out, runtime.Mount{Type: "tmpfs", Source: "tmpfs", Target: m.Target, Options: opts})
		}
	}
	etc, err := e.writeEtc(ctx, c)
	if err != nil {
		return nil, err
	}
	return append(out, etc...), nil
}

// writeEtc writes the container's hosts, hostname and resolv.conf and
// returns their bind mounts.
func (e *Engine) writeEtc(ctx context.Context, c reconcile.ContainerSpec) ([]runtime.Mount, error) {
	dir := e.etcDir(c.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	hosts, err := e.hostsFile(ctx, c.Project, c.Name)
	if err != nil {
		return nil, err
	}
	resolv, err := network.HostResolvConf()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"hosts":       hosts,
		"hostname":    []byte(first(c.Service.Hostname, shortID(c.Name)) + "\n"),
		"resolv.conf": network.ResolvConf(resolv),
	}
	if c.Service.NetworkMode == "host" {
		files["resolv.conf"] = resolv
	}
	var out []runtime.Mount
	for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", p, err)
		}
		out = append(out, runtime.Mount{Type: "bind", Source: p, Target: "/etc/" + name})
	}
	return out, nil
}

// publish sets up the container's published ports on its first network.
func (e *Engine) publish(ctx context.Context, c reconcile.ContainerSpec) error {
	if len(c.Service.Ports) == 0 {
		return nil
	}
	if c.Service.NetworkMode != "" {
		return nil // host networking needs no publishing; none has nothing to publish to
	}
	eps, err := e.endpointsOf(ctx, c.Name)
	if err != nil || len(eps) == 0 {
		return fmt.Errorf("publishing ports of %s: no network address: %w", c.Name, err)
	}
	rec, err := e.Store.Network(ctx, eps[0].Network)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(eps[0].Address)
	if err != nil {
		return err
	}
	var maps []network.PortMapping
	for _, p := range c.Service.Ports {
		m, err := portMappings(p, ip, rec.Bridge)
		if err != nil {
			return fmt.Errorf("service %q: ports: %w", c.Service.Name, err)
		}
		maps = append(maps, m...)
	}
	return e.Net.PublishPorts(c.Name, maps)
}

// portMappings expands one published port (a single port or a range).
func portMappings(p spec.Port, ip netip.Addr, bridge string) ([]network.PortMapping, error) {
	if p.Published == "" {
		return nil, fmt.Errorf("port %d: ephemeral host ports are not supported by berth yet: give a host port", p.Target)
	}
	lo, hi, err := portRange(p.Published)
	if err != nil {
		return nil, err
	}
	var hostIP netip.Addr
	if p.HostIP != "" {
		if hostIP, err = netip.ParseAddr(p.HostIP); err != nil {
			return nil, fmt.Errorf("host_ip %q: %w", p.HostIP, err)
		}
	}
	var out []network.PortMapping
	for port := lo; port <= hi; port++ {
		target := p.Target + uint32(port-lo)
		if hi > lo && p.Target == 0 {
			target = uint32(port)
		}
		out = append(out, network.PortMapping{HostIP: hostIP, HostPort: port, ContainerIP: ip, ContainerPort: uint16(target),
			Protocol: first(p.Protocol, "tcp"), Bridge: bridge})
	}
	return out, nil
}

func portRange(s string) (uint16, uint16, error) {
	loS, hiS, isRange := cutDash(s)
	lo, err := strconv.ParseUint(loS, 10, 16)
	if err != nil {
		return 0, 0, fmt.Errorf("published port %q: %w", s, err)
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseUint(hiS, 10, 16); err != nil || hi < lo {
			return 0, 0, fmt.Errorf("published port range %q is invalid", s)
		}
	}
	return uint16(lo), uint16(hi), nil
}

func cutDash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Start starts a stopped container again from its recorded configuration.
func (e *Engine) Start(ctx context.Context, name string) error {
	return e.Runtime.Restart(ctx, name)
}

// Remove stops a container (its stop signal, then SIGKILL after timeout)
// and removes everything made for it: its runtime state and writable
// layer, published ports, links, network namespace, /etc files and record.
// Each step tolerates what is already gone, so it also cleans up after a
// failed Create.
func (e *Engine) Remove(ctx context.Context, name string, timeout time.Duration) error {
	var errs []error
	if err := e.Runtime.Stop(ctx, name, timeout); err != nil && !errors.Is(err, runtime.ErrNotFound) && !errors.Is(err, runtime.ErrNotRunning) {
		errs = append(errs, err)
	}
	if err := e.Runtime.Remove(ctx, name); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		errs = append(errs, err)
	}
	if err := e.Net.UnpublishPorts(name); err != nil {
		errs = append(errs, err)
	}
	eps, err := e.endpointsOf(ctx, name)
	if err != nil {
		errs = append(errs, err)
	}
	for _, ep := range eps {
		if err := e.Net.Detach(network.Link{HostVeth: network.VethName(e.Root+"\x00"+name, ep.Network)}); err != nil {
			errs = append(errs, err)
		}
	}
	if err := network.RemoveNetNS(e.netnsPath(name)); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(e.etcDir(name)); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return e.Store.DeleteContainer(ctx, name)
}

// Wait blocks until container name has exited and returns its exit code.
func (e *Engine) Wait(ctx context.Context, name string) (int, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := e.Runtime.State(ctx, name)
		if err != nil {
			return 0, err
		}
		if st.Status == "exited" || st.Status == "missing" {
			return st.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
}

func (e *Engine) endpointsOf(ctx context.Context, name string) ([]store.Endpoint, error) {
	all, err := e.Store.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Endpoint
	for _, ep := range all {
		if ep.Container == name {
			out = append(out, ep)
		}
	}
	return out, nil
}

// shortID is a container's default hostname: 12 hex digits, as Docker's
// container IDs.
func shortID(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:6])
}
