package engine

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/volume"
)

// This file is pure assembly: from a container's spec and its image's
// config to what the runtime runs. No I/O; unit-tested without root.

// imageConfig is what the planner needs of an image's configuration.
func imageConfig(c image.Config) reconcile.ImageConfig {
	ic := reconcile.ImageConfig{Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir, User: c.User,
		StopSignal: c.StopSignal, Volumes: c.Volumes}
	if h := c.Healthcheck; h != nil {
		ic.Healthcheck = &spec.Healthcheck{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
	}
	return ic
}

// errNotPlanned is the error of a container spec whose process the
// planner could not merge (its image was not local when planned).
var errNotPlanned = errors.New("its process was not planned: the image was not local when the plan was made (plan again)")

// runtimeConfig is the runtime configuration of container c, from the
// process the planner merged and the container's ID, without its network
// namespace and mounts, which the host allocates.
func runtimeConfig(c reconcile.ContainerSpec, id string, layers []string) (runtime.Config, error) {
	svc, proc := c.Service, c.Process
	if proc == nil {
		return runtime.Config{}, fmt.Errorf("container %s: %w", c.Name, errNotPlanned)
	}
	host := hostname(svc, id)
	cfg := runtime.Config{ID: c.Name, Layers: layers, Args: proc.Args, Env: withHostname(proc.Env, host),
		Cwd: proc.WorkingDir, User: proc.User, Hostname: host, Domainname: svc.Domainname,
		ReadOnlyRootfs: svc.ReadOnly, StopSignal: proc.StopSignal, Restart: svc.Restart,
		Labels: containerLabels(c, nil),
		Health: health(proc.Healthcheck), Tty: svc.Tty, OpenStdin: svc.StdinOpen,
		StdinOnce: c.OneOff && svc.StdinOpen, // berth run -i: the input ends with the user's
		Replayed:  c.OneOff,                  // berth run attaches for the output so far
		Resources: limits(svc.Resources), Log: logConfig(svc.Logging)}
	if svc.StopGracePeriod != nil {
		cfg.StopTimeout = *svc.StopGracePeriod
	}
	cfg.RestartDelay = svc.RestartDelay
	if svc.RestartWindow != nil {
		cfg.RestartWindow = *svc.RestartWindow
	}
	return cfg, nil
}

// labelOneOff marks the containers `berth run` makes, "True" or "False".
const labelOneOff = "com.docker.compose.oneoff"

// labelContents records the digests of a container's config and secret
// contents (reconcile.EncodeContents).
const labelContents = "dev.berth.contents"

// labelSources records where a container's configs and secrets came
// from (reconcile.EncodeSources), for berth boot to write them again.
const labelSources = "dev.berth.sources"

// oneOff is the value of labelOneOff, as Docker Compose writes it.
func oneOff(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// containerLabels are a container's labels as Docker labels it: the
// image's, overridden by the service's (label_file already merged in by
// the loader), overridden by Docker Compose's own com.docker.compose.*.
func containerLabels(c reconcile.ContainerSpec, fromImage map[string]string) map[string]string {
	out := map[string]string{}
	maps.Copy(out, fromImage)
	maps.Copy(out, c.Service.Labels)
	maps.Copy(out, map[string]string{
		"com.docker.compose.project":              c.Project,
		"com.docker.compose.service":              c.Service.Name,
		"com.docker.compose.container-number":     strconv.Itoa(c.Number),
		labelOneOff:                               oneOff(c.OneOff),
		"com.docker.compose.config-hash":          c.Hash,
		"com.docker.compose.project.config_files": strings.Join(c.ConfigFiles, ","),
		"com.docker.compose.project.working_dir":  c.WorkingDir,
	})
	if v := reconcile.EncodeContents(reconcile.Contents(c)); v != "" {
		out[labelContents] = v
	}
	if v := reconcile.EncodeSources(reconcile.Sources(c)); v != "" {
		out[labelSources] = v
	}
	return out
}

// hostname is a container's hostname: its service's, else the first 12
// digits of its ID, as in Docker.
func hostname(svc spec.Service, id string) string { return first(svc.Hostname, id[:min(12, len(id))]) }

// withHostname is env with HOSTNAME=host after its first variable (PATH),
// as Docker sets it, unless the image or the service sets HOSTNAME.
func withHostname(env []string, host string) []string {
	if slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "HOSTNAME=") }) {
		return env
	}
	at := min(1, len(env))
	return slices.Insert(slices.Clone(env), at, "HOSTNAME="+host)
}

// health turns the healthcheck a container runs into the runtime's, its
// test into the argv the probe runs; nil for none or NONE.
func health(h *spec.Healthcheck) *runtime.Health {
	if h == nil || len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL") {
		return nil
	}
	argv := h.Test[1:]
	if h.Test[0] == "CMD-SHELL" {
		argv = []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
	}
	return &runtime.Health{Test: argv, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod,
		StartInterval: h.StartInterval, Retries: h.Retries}
}

// configuredMAC is the MAC address the service asks for on its i-th
// network (key): the network's mac_address, else the service's on the
// first; "" lets it follow the address.
func configuredMAC(svc spec.Service, key string, i int) string {
	if m := svc.Networks[key].MacAddress; m != "" || i != 0 {
		return m
	}
	return svc.MacAddress
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
	return runtime.Mount{Type: "tmpfs", Source: "tmpfs", Target: m.Target, ReadOnly: m.ReadOnly, Options: opts}
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
