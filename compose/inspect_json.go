package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/lifecycle"
)

// containerJSON is `docker inspect`'s shape of a container, for the
// fields scripts read, in Docker's order.
type containerJSON struct {
	Id              string
	Created         string
	Path            string
	Args            []string
	State           stateJSON
	Image           string
	Name            string
	RestartCount    int
	Driver          string
	Platform        string
	HostConfig      hostConfigJSON
	Mounts          []mountJSON
	Config          configJSON
	NetworkSettings struct {
		Ports    map[string][]portBindingJSON
		Networks map[string]endpointJSON
	}
}

type stateJSON struct {
	Status     string // created, running, paused, restarting, exited or dead
	Running    bool
	Paused     bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  string
	FinishedAt string
	Health     *healthJSON `json:",omitempty"`
}

type healthJSON struct {
	Status        string
	FailingStreak int
	Log           []struct{}
}

type hostConfigJSON struct {
	NetworkMode   string
	PortBindings  map[string][]portBindingJSON
	RestartPolicy struct {
		Name              string
		MaximumRetryCount int
	}
	limitsJSON
}

type portBindingJSON struct {
	HostIp   string
	HostPort string
}

type mountJSON struct {
	Type        string
	Name        string `json:",omitempty"`
	Source      string
	Destination string
	Driver      string `json:",omitempty"`
	Mode        string
	RW          bool
	Propagation string
}

type configJSON struct {
	Hostname   string
	Domainname string
	User       string
	Tty        bool
	OpenStdin  bool
	StdinOnce  bool
	Env        []string
	Cmd        []string
	Image      string
	WorkingDir string
	Entrypoint []string
	Labels     map[string]string
	StopSignal string `json:",omitempty"`
}

type endpointJSON struct {
	Aliases             []string
	MacAddress          string
	NetworkID           string
	EndpointID          string
	Gateway             string
	IPAddress           string
	IPPrefixLen         int
	IPv6Gateway         string
	GlobalIPv6Address   string
	GlobalIPv6PrefixLen int
	DNSNames            []string
}

// dockerTime is how Docker writes a time in inspect: RFC 3339 in UTC
// with nanoseconds, the zero time as 0001-01-01T00:00:00Z.
func dockerTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// dockerInspect turns a container's detail into docker inspect's shape.
func dockerInspect(d engine.ContainerDetail) containerJSON {
	c := containerJSON{Id: d.ID, Created: dockerTime(d.Created), Image: d.ImageID, Name: "/" + d.Name,
		RestartCount: d.Restarts, Driver: "overlay", Platform: "linux", State: dockerState(d), Mounts: []mountJSON{},
		Config: configJSON{Hostname: d.Hostname, Domainname: d.Domainname, User: d.User, Tty: d.Tty, OpenStdin: d.OpenStdin, StdinOnce: d.StdinOnce, Env: d.Env, Cmd: d.Cmd, Image: d.Image,
			WorkingDir: d.WorkingDir, Entrypoint: d.Entrypoint, Labels: d.Labels, StopSignal: d.StopSignal}}
	if len(d.Args) > 0 {
		c.Path, c.Args = d.Args[0], d.Args[1:]
	}
	c.HostConfig.NetworkMode = networkMode(d)
	c.HostConfig.RestartPolicy.Name, c.HostConfig.RestartPolicy.MaximumRetryCount = restartPolicy(d.Restart)
	c.HostConfig.limitsJSON = dockerLimits(d)
	c.HostConfig.PortBindings = map[string][]portBindingJSON{}
	c.NetworkSettings.Ports = map[string][]portBindingJSON{}
	for _, p := range d.Ports {
		key := strconv.Itoa(p.ContainerPort) + "/" + p.Protocol
		port := strconv.Itoa(p.HostPort)
		c.HostConfig.PortBindings[key] = append(c.HostConfig.PortBindings[key], portBindingJSON{HostIp: p.HostIP, HostPort: port})
		c.NetworkSettings.Ports[key] = append(c.NetworkSettings.Ports[key], portBindingJSON{HostIp: first(p.HostIP, "0.0.0.0"), HostPort: port})
	}
	for _, m := range d.Mounts {
		mj := mountJSON{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, RW: !m.ReadOnly}
		switch m.Type {
		case "volume":
			mj.Driver, mj.Mode = "local", "z"
		case "bind":
			mj.Propagation = "rprivate"
		}
		c.Mounts = append(c.Mounts, mj)
	}
	c.NetworkSettings.Networks = map[string]endpointJSON{}
	for _, n := range d.Networks {
		c.NetworkSettings.Networks[n.Network] = endpointJSON{Aliases: n.Aliases, MacAddress: n.MAC,
			NetworkID: networkID(n.Network), EndpointID: endpointID(d.ID, n.Network), Gateway: n.Gateway,
			IPAddress: n.Address, IPPrefixLen: n.PrefixLen, IPv6Gateway: n.Gateway6, GlobalIPv6Address: n.Address6,
			GlobalIPv6PrefixLen: n.PrefixLen6, DNSNames: append(slices.Clone(n.Aliases), d.ID[:min(12, len(d.ID))])}
	}
	return c
}

// dockerState is Docker's State of a container: a paused or restarting
// container is running too, one gone from the host is dead.
func dockerState(d engine.ContainerDetail) stateJSON {
	s := stateJSON{Status: string(d.State), ExitCode: d.ExitCode, StartedAt: dockerTime(d.StartedAt), FinishedAt: dockerTime(d.FinishedAt),
		OOMKilled: d.OOMKilled}
	switch d.State {
	case lifecycle.Running, lifecycle.Paused:
		s.Running, s.Paused, s.Pid = true, d.State == lifecycle.Paused, d.Pid
	case lifecycle.Restarting:
		s.Running, s.Restarting = true, true
	case lifecycle.Missing:
		s.Status, s.Dead, s.Error = "dead", true, "the container is gone from the host"
	}
	if d.Health != "" {
		s.Health = &healthJSON{Status: d.Health, Log: []struct{}{}}
	}
	return s
}

// networkMode is Docker's HostConfig.NetworkMode: the first network's
// name for a container on networks, else the service's network_mode.
func networkMode(d engine.ContainerDetail) string {
	switch {
	case d.NetworkMode != "":
		return d.NetworkMode
	case len(d.Networks) > 0:
		return d.Networks[0].Network
	}
	return "none"
}

// restartPolicy splits a restart policy into Docker's name and retry count.
func restartPolicy(p string) (string, int) {
	name, count, _ := strings.Cut(p, ":")
	n, _ := strconv.Atoi(count)
	return first(name, "no"), n
}

// endpointID is a Docker-shaped ID for a container's endpoint on a network.
func endpointID(container, network string) string {
	h := sha256.Sum256([]byte("endpoint\x00" + container + "\x00" + network))
	return hex.EncodeToString(h[:])
}
