package engine

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/volume"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// This file is pure assembly: from a container's spec and its image's
// config to what the runtime runs. No I/O; unit-tested without root.

// runtimeConfig is the runtime configuration of container c, made from
// its service and the image's config, without its network namespace and
// mounts, which the host allocates.
func runtimeConfig(c reconcile.ContainerSpec, img image.Config, id string, layers []string) (runtime.Config, error) {
	svc := c.Service
	args, err := processArgs(img, svc)
	if err != nil {
		return runtime.Config{}, err
	}
	host := hostname(svc, id)
	cfg := runtime.Config{ID: c.Name, Layers: layers, Args: args, Env: processEnv(img, svc, host),
		Cwd: first(svc.WorkingDir, img.WorkingDir, "/"), User: first(svc.User, img.User), Hostname: host, Domainname: svc.Domainname,
		ReadOnlyRootfs: svc.ReadOnly, StopSignal: first(svc.StopSignal, img.StopSignal), Restart: svc.Restart,
		Labels: map[string]string{"com.docker.compose.project": c.Project, "com.docker.compose.service": svc.Name,
			"com.docker.compose.container-number": strconv.Itoa(c.Number)},
		Health: health(svc.Healthcheck, img.Healthcheck)}
	if svc.StopGracePeriod != nil {
		cfg.StopTimeout = *svc.StopGracePeriod
	}
	return cfg, nil
}

// hostname is a container's hostname: its service's, else the first 12
// digits of its ID, as in Docker.
func hostname(svc spec.Service, id string) string { return first(svc.Hostname, id[:min(12, len(id))]) }

// health turns a service's healthcheck (or, without one, the image's)
// into the runtime's, its test into the argv the probe runs.
func health(h *spec.Healthcheck, fromImage *v1.HealthConfig) *runtime.Health {
	if h == nil && fromImage != nil {
		h = &spec.Healthcheck{Test: fromImage.Test, Interval: fromImage.Interval, Timeout: fromImage.Timeout,
			StartPeriod: fromImage.StartPeriod, Retries: fromImage.Retries}
	}
	if h == nil || len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL") {
		return nil
	}
	argv := h.Test[1:]
	if h.Test[0] == "CMD-SHELL" {
		argv = []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
	}
	return &runtime.Health{Test: argv, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
}

// defaultPath is Docker's PATH for containers whose image sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrNoCommand is returned when neither the image nor the service says
// what to run.
var ErrNoCommand = errors.New("no command specified")

// processArgs merges the image's ENTRYPOINT and CMD with the service's, as
// Docker does: a service entrypoint drops the image's CMD unless the service
// also gives a command.
func processArgs(img image.Config, svc spec.Service) ([]string, error) {
	entry, cmd := img.Entrypoint, img.Cmd
	if svc.Entrypoint != nil {
		entry, cmd = svc.Entrypoint, nil
	}
	if svc.Command != nil {
		cmd = svc.Command
	}
	args := append(append([]string{}, entry...), cmd...)
	if len(args) == 0 {
		return nil, ErrNoCommand
	}
	return args, nil
}

// processEnv is the image's environment overridden by the service's, with
// HOSTNAME set and PATH defaulted, sorted by name after the image's order.
func processEnv(img image.Config, svc spec.Service, hostname string) []string {
	var env []string
	index := map[string]int{}
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			env[i] = kv
			return
		}
		index[k] = len(env)
		env = append(env, kv)
	}
	set(defaultPath)
	set("HOSTNAME=" + hostname)
	for _, kv := range img.Env {
		set(kv)
	}
	keys := make([]string, 0, len(svc.Environment))
	for k := range svc.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set(k + "=" + svc.Environment[k])
	}
	return env
}

// first returns the first non-empty string.
func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// bindMount is the runtime mount of a bind mount.
func bindMount(m spec.Mount) runtime.Mount {
	var opts []string
	if m.Propagation != "" {
		opts = append(opts, m.Propagation)
	}
	return runtime.Mount{Type: "bind", Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly, Options: opts}
}

// tmpfsMount is the runtime mount of a tmpfs mount.
func tmpfsMount(m spec.Mount) runtime.Mount {
	var opts []string
	if m.TmpfsSize > 0 {
		opts = append(opts, "size="+strconv.FormatInt(m.TmpfsSize, 10))
	}
	if m.TmpfsMode != 0 {
		opts = append(opts, "mode="+strconv.FormatUint(uint64(m.TmpfsMode), 8))
	}
	return runtime.Mount{Type: "tmpfs", Source: "tmpfs", Target: m.Target, Options: opts}
}

// volumeBind is the runtime mount of a volume, mounted as the volume says
// (a directory bound, or a tmpfs volume's own tmpfs); read-only when the
// mount or the volume asks.
func volumeBind(m spec.Mount, src volume.Source) runtime.Mount {
	ro := m.ReadOnly || src.ReadOnly
	if src.Type == "tmpfs" {
		return runtime.Mount{Type: "tmpfs", Source: "tmpfs", Target: m.Target, ReadOnly: ro, Options: src.Options}
	}
	return runtime.Mount{Type: "bind", Source: src.Path, Target: m.Target, ReadOnly: ro, Options: src.Options}
}

// hostPorts picks host ports not in use: an ephemeral one, or one of a range.
type hostPorts interface {
	Free(proto string, hostIP netip.Addr, taken []uint16) (uint16, error)
	FreeIn(proto string, hostIP netip.Addr, lo, hi uint16, taken []uint16) (uint16, error)
}

// portMappings expands one published port: a single port, a range, or an
// ephemeral one, to ip on bridge; ports picks the host ports left open.
func portMappings(p spec.Port, ip netip.Addr, bridge string, taken map[string][]uint16, ports hostPorts) ([]network.PortMapping, error) {
	proto := first(p.Protocol, "tcp")
	hostIP := p.HostIP
	mapping := func(host uint16, target uint32) network.PortMapping {
		return network.PortMapping{HostIP: hostIP, HostPort: host, ContainerIP: ip, ContainerPort: uint16(target), Protocol: proto, Bridge: bridge}
	}
	if p.Published.IsZero() {
		port, err := ports.Free(proto, hostIP, taken[proto])
		if err != nil {
			return nil, fmt.Errorf("port %d: choosing a host port: %w", p.Target, err)
		}
		return []network.PortMapping{mapping(port, p.Target)}, nil
	}
	lo, hi := p.Published.Lo, p.Published.Hi
	if hi > lo {
		// "8000-8010:80" (compose-go expands equal ranges on both sides
		// into single ports): one free host port of the range for port 80,
		// as Docker does, so that each replica of a service gets one.
		port, err := ports.FreeIn(proto, hostIP, lo, hi, taken[proto])
		if err != nil {
			return nil, fmt.Errorf("port %d: no free host port in %s: %w", p.Target, p.Published, err)
		}
		return []network.PortMapping{mapping(port, p.Target)}, nil
	}
	return []network.PortMapping{mapping(lo, p.Target)}, nil
}

// mirror6 publishes each mapping on the host's IPv6 addresses too, to the
// container's IPv6 address, when it has one and the port names no host
// address (Docker's default on a dual-stack network; 0.0.0.0 means IPv4 only).
func mirror6(ms []network.PortMapping, hostIP netip.Addr, addr6 string) []network.PortMapping {
	ip6, err := netip.ParseAddr(addr6)
	if err != nil || hostIP.IsValid() {
		return nil
	}
	var out []network.PortMapping
	for _, m := range ms {
		m.ContainerIP, m.HostIP = ip6, netip.Addr{}
		out = append(out, m)
	}
	return out
}
