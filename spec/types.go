package spec

import (
	"strconv"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// Project is a loaded, normalised stack: what the user wants on the host.
type Project struct {
	Name       string             // project name, e.g. "hello"
	WorkingDir string             // absolute project directory
	Files      []string           // absolute paths of the compose files it was loaded from
	Services   []Service          // sorted by Name
	Networks   map[string]Network // key: the name in the compose file ("default", "back")
	Volumes    map[string]Volume  // key: the name in the compose file ("data")

	loaded *types.Project // compose-go's model of the same load, for Render; nil when built by hand
}

// Service is one service of a project, with every field berth honours.
// Slices and maps are normalised (sorted, empty rather than nil where it
// matters) so that two loads of one file compare and hash equal.
//
// The json tags define the canonical encoding (see Canonical and ConfigHash).
// Every field, here and in the types it holds, must be tagged omitempty (or
// omitzero where the empty value means something else than the zero one), so
// that a field added in a later berth version, zero for containers made
// before it, leaves their hash unchanged. TestCanonicalTagsOmitZero enforces it.
type Service struct {
	Name            string                    `json:"name,omitempty"`
	Image           string                    `json:"image,omitempty"`       // as written; "" only when the service builds
	PullPolicy      string                    `json:"pull_policy,omitempty"` // "missing" (default), "always", "never", "build"
	Entrypoint      []string                  `json:"entrypoint,omitzero"`   // nil: the image's; non-nil empty: reset
	Command         []string                  `json:"command,omitzero"`      // nil: the image's
	Environment     map[string]string         `json:"environment,omitempty"` // resolved, including env_file
	WorkingDir      string                    `json:"working_dir,omitempty"`
	User            string                    `json:"user,omitempty"`
	Hostname        string                    `json:"hostname,omitempty"`
	Networks        map[string]ServiceNetwork `json:"networks,omitempty"`     // key: project network name; empty when NetworkMode is set
	NetworkMode     string                    `json:"network_mode,omitempty"` // "", "host", "none"
	Mounts          []Mount                   `json:"mounts,omitempty"`       // volumes, binds and tmpfs, in file order
	Ports           []Port                    `json:"ports,omitempty"`
	DependsOn       map[string]Dependency     `json:"depends_on,omitempty"`        // key: service name
	StopSignal      string                    `json:"stop_signal,omitempty"`       // "" means SIGTERM
	StopGracePeriod *time.Duration            `json:"stop_grace_period,omitempty"` // nil means 10s
	Restart         string                    `json:"restart,omitempty"`           // "no", "always", "on-failure[:N]", "unless-stopped"
	Labels          map[string]string         `json:"labels,omitempty"`
	Scale           int                       `json:"scale,omitempty"` // replicas: 1 unless scale or deploy.replicas says otherwise (0 allowed: run none)
	Tty             bool                      `json:"tty,omitempty"`
	StdinOpen       bool                      `json:"stdin_open,omitempty"`
	Init            bool                      `json:"init,omitempty"`
	ReadOnly        bool                      `json:"read_only,omitempty"`
	Profiles        []string                  `json:"profiles,omitempty"`
}

// ServiceNetwork is a service's attachment to one project network.
type ServiceNetwork struct {
	Aliases     []string `json:"aliases,omitempty"`
	IPv4Address string   `json:"ipv4_address,omitempty"`
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
	Type     MountType `json:"type,omitempty"`
	Source   string    `json:"source,omitempty"` // volume: project volume name (key of Project.Volumes), "" for anonymous; bind: absolute host path
	Target   string    `json:"target,omitempty"` // absolute path inside the container
	ReadOnly bool      `json:"read_only,omitempty"`
	// CreateHostPath: for binds, create a missing host directory (Compose's default for short syntax).
	CreateHostPath bool   `json:"create_host_path,omitempty"`
	NoCopy         bool   `json:"no_copy,omitempty"`    // volume: do not copy image content into a fresh volume
	TmpfsSize      int64  `json:"tmpfs_size,omitempty"` // bytes; 0 for the kernel default
	TmpfsMode      uint32 `json:"tmpfs_mode,omitempty"`
}

// Port is one published port.
type Port struct {
	HostIP    string `json:"host_ip,omitempty"`   // "" means every address
	Published string `json:"published,omitempty"` // host port or range, "" for an ephemeral one
	Target    uint32 `json:"target,omitempty"`
	Protocol  string `json:"protocol,omitempty"` // "tcp" or "udp"
}

// Dependency is one depends_on entry.
type Dependency struct {
	Condition string `json:"condition,omitempty"` // "service_started", "service_healthy", "service_completed_successfully"
	Required  bool   `json:"required,omitempty"`
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
