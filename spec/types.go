package spec

import (
	"strconv"
	"time"
)

// Project is a loaded, normalised stack: what the user wants on the host.
type Project struct {
	Name       string             // project name, e.g. "hello"
	WorkingDir string             // absolute project directory
	Files      []string           // absolute paths of the compose files it was loaded from
	Services   []Service          // sorted by Name
	Networks   map[string]Network // key: the name in the compose file ("default", "back")
	Volumes    map[string]Volume  // key: the name in the compose file ("data")
}

// Service is one service of a project, with every field berth honours.
// Slices and maps are normalised (sorted, empty rather than nil where it
// matters) so that two loads of one file compare and hash equal.
type Service struct {
	Name            string
	Image           string            // as written; "" only when the service builds
	PullPolicy      string            // "missing" (default), "always", "never", "build"
	Entrypoint      []string          // nil: the image's; non-nil empty: reset
	Command         []string          // nil: the image's
	Environment     map[string]string // resolved, including env_file
	WorkingDir      string
	User            string
	Hostname        string
	Networks        map[string]ServiceNetwork // key: project network name; empty when NetworkMode is set
	NetworkMode     string                    // "", "host", "none"
	Mounts          []Mount                   // volumes, binds and tmpfs, in file order
	Ports           []Port
	DependsOn       map[string]Dependency // key: service name
	StopSignal      string                // "" means SIGTERM
	StopGracePeriod *time.Duration        // nil means 10s
	Restart         string                // "no", "always", "on-failure[:N]", "unless-stopped"
	Labels          map[string]string
	Scale           int // replicas, at least 1
	Tty             bool
	StdinOpen       bool
	Init            bool
	ReadOnly        bool
	Profiles        []string
}

// ServiceNetwork is a service's attachment to one project network.
type ServiceNetwork struct {
	Aliases     []string
	IPv4Address string
}

// MountType says what a Mount's source is.
type MountType string

// Mount types.
const (
	MountVolume MountType = "volume"
	MountBind   MountType = "bind"
	MountTmpfs  MountType = "tmpfs"
)

// Mount is one filesystem a service's containers see.
type Mount struct {
	Type     MountType
	Source   string // volume: project volume name (key of Project.Volumes), "" for anonymous; bind: absolute host path
	Target   string // absolute path inside the container
	ReadOnly bool
	// CreateHostPath: for binds, create a missing host directory (Compose's default for short syntax).
	CreateHostPath bool
	NoCopy         bool  // volume: do not copy image content into a fresh volume
	TmpfsSize      int64 // bytes; 0 for the kernel default
	TmpfsMode      uint32
}

// Port is one published port.
type Port struct {
	HostIP    string // "" means every address
	Published string // host port or range, "" for an ephemeral one
	Target    uint32
	Protocol  string // "tcp" or "udp"
}

// Dependency is one depends_on entry.
type Dependency struct {
	Condition string // "service_started", "service_healthy", "service_completed_successfully"
	Required  bool
}

// Network is one project network.
type Network struct {
	Name     string // the real name, e.g. "hello_default", or the `name:` given
	Driver   string // "bridge"
	Internal bool
	External bool
	Labels   map[string]string
	Subnets  []string // ipam.config subnets, may be empty
}

// Volume is one project volume.
type Volume struct {
	Name     string // the real name, e.g. "hello_data", or the `name:` given
	Driver   string // "local"
	External bool
	Labels   map[string]string
}

// ContainerName is the Docker Compose name of replica n (from 1) of a service.
func ContainerName(project, service string, n int) string {
	return project + "-" + service + "-" + strconv.Itoa(n)
}
