package spec

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// Project is a loaded, normalised stack: what the user wants on the host.
type Project struct {
	Name       string                   // project name, e.g. "hello"
	WorkingDir string                   // absolute project directory
	Files      []string                 // absolute paths of the compose files it was loaded from
	Services   []Service                // sorted by Name
	Disabled   []string                 // services the active profiles leave out, sorted: theirs are not orphans
	Networks   map[string]Network       // key: the name in the compose file ("default", "back")
	Volumes    map[string]Volume        // key: the name in the compose file ("data")
	Configs    map[string]FileSource    // key: the name in the compose file ("token")
	Secrets    map[string]FileSource    // key: the name in the compose file ("token")
	Watched    map[string][]WatchedBind // key: service name; its read-only binds declared as configuration

	loaded *types.Project // compose-go's model of the same load, for Render; nil when built by hand or cached

	// A project from LoadCached has no loaded model until model() reloads it.
	env      map[string]string     // the interpolation environment
	profiles []string              // AllProfiles
	reload   func() *types.Project // a full load; nil on failure
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
	PullPolicy      string                    `json:"pull_policy,omitempty"` // "missing" (default), "always", "never", "build", "refresh"
	Entrypoint      []string                  `json:"entrypoint,omitzero"`   // nil: the image's; non-nil empty: reset
	Command         []string                  `json:"command,omitzero"`      // nil: the image's
	Environment     map[string]string         `json:"environment,omitempty"` // resolved, including env_file
	WorkingDir      string                    `json:"working_dir,omitempty"`
	User            string                    `json:"user,omitempty"`
	Hostname        string                    `json:"hostname,omitempty"`
	Networks        map[string]ServiceNetwork `json:"networks,omitempty"`     // key: project network name; empty when NetworkMode is set
	NetworkMode     string                    `json:"network_mode,omitempty"` // "", "host", "none", "service:NAME", "container:NAME"
	Mounts          []Mount                   `json:"mounts,omitempty"`       // volumes, binds and tmpfs, in file order
	Ports           []Port                    `json:"ports,omitempty"`
	DependsOn       map[string]Dependency     `json:"depends_on,omitempty"`        // key: service name
	StopSignal      string                    `json:"stop_signal,omitempty"`       // "" means SIGTERM
	StopGracePeriod *time.Duration            `json:"stop_grace_period,omitempty"` // nil means 10s
	Restart         string                    `json:"restart,omitempty"`           // "no", "always", "on-failure[:N]", "unless-stopped"
	RestartDelay    *time.Duration            `json:"restart_delay,omitempty"`     // deploy.restart_policy.delay: the wait before each restart, in place of the back-off; nil: the back-off
	RestartWindow   *time.Duration            `json:"restart_window,omitempty"`    // deploy.restart_policy.window: only restarts within it count toward on-failure:N; nil when unset or without N
	Labels          map[string]string         `json:"labels,omitempty"`
	Scale           int                       `json:"scale,omitempty"`  // replicas: 1 unless scale or deploy.replicas says otherwise (0 allowed: run none)
	Update          *UpdateConfig             `json:"update,omitempty"` // deploy.update_config: how its containers are replaced; nil: stop-first
	Tty             bool                      `json:"tty,omitempty"`
	StdinOpen       bool                      `json:"stdin_open,omitempty"`
	Init            bool                      `json:"init,omitempty"`
	ReadOnly        bool                      `json:"read_only,omitempty"`
	Profiles        []string                  `json:"profiles,omitempty"`
	Platform        string                    `json:"platform,omitempty"` // "os/arch[/variant]" for the pull; "" = the host's
	Domainname      string                    `json:"domainname,omitempty"`
	ExtraHosts      []ExtraHost               `json:"extra_hosts,omitempty"` // sorted by name, one name's addresses in file order
	// Links and ExternalLinks are host names this service's containers
	// know another's by, on a network they share: what links mean on a
	// user-defined network. Sorted.
	Links         []Link        `json:"links,omitempty"`          // to a service of the project
	ExternalLinks []Link        `json:"external_links,omitempty"` // to a container by name
	DNS           []string      `json:"dns,omitempty"`
	DNSSearch     []string      `json:"dns_search,omitempty"`
	DNSOpt        []string      `json:"dns_opt,omitempty"`
	MacAddress    string        `json:"mac_address,omitempty"`
	VolumesFrom   []VolumesFrom `json:"volumes_from,omitempty"`
	Configs       []FileRef     `json:"configs,omitempty"`
	Secrets       []FileRef     `json:"secrets,omitempty"`
	ContainerName string        `json:"container_name,omitempty"` // a fixed name for its (single) container
	Healthcheck   *Healthcheck  `json:"healthcheck,omitempty"`
	// NoAttach is `attach: false`: attached up does not show its logs
	// unless asked with --attach. It does not change the container.
	NoAttach bool     `json:"no_attach,omitempty"`
	Expose   []string `json:"expose,omitempty"` // ports exposed, not published ("80/tcp"): informational, not hashed
	Build    *Build   `json:"build,omitempty"`  // how its image is built; nil when it is pulled. Not hashed
	// Resources are its cgroup limits (nil: none); not hashed: a change is
	// applied in place (LimitsChanged).
	Resources *Resources `json:"resources,omitempty"`
	Logging   *Logging   `json:"logging,omitempty"`    // nil: json-file with berth's default rotation
	PostStart []Hook     `json:"post_start,omitempty"` // run in each container after its start, in order
	PreStop   []Hook     `json:"pre_stop,omitempty"`   // run in each running container before its stop, in order

	// PullRefresh is, for pull_policy refresh (daily, weekly,
	// every_<duration>), how old the last pull may be: 0 pulls every time.
	PullRefresh time.Duration `json:"pull_refresh,omitempty"`
	// Security is how its containers are confined (spec/security.go).
	Security Security `json:"security,omitzero"`
}

// Healthcheck is a service's health check. Test is Docker's form:
// ["CMD", argv...], ["CMD-SHELL", "command line"] or ["NONE"] (disabled,
// also the image's). A service without one (nil) uses its image's.
type Healthcheck struct {
	Test        []string      `json:"test,omitempty"`
	Interval    time.Duration `json:"interval,omitempty"`     // 0: 30s
	Timeout     time.Duration `json:"timeout,omitempty"`      // 0: 30s
	StartPeriod time.Duration `json:"start_period,omitempty"` // failures in it do not count
	// StartInterval is the time between probes in the start period until
	// the first success; 0: 5s.
	StartInterval time.Duration `json:"start_interval,omitempty"`
	Retries       int           `json:"retries,omitempty"` // 0: 3
}

// Container is the name of replica n (from 1) of the service: its
// container_name if it has one, else Docker Compose's <project>-<service>-<n>.
func (s Service) Container(project string, n int) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return ContainerName(project, s.Name, n)
}

// FileRef is a service's use of a top-level config or secret. Target is
// absolute: Compose's default is "/<source>" for configs and
// "/run/secrets/<source>" for secrets, and a relative secret target is taken
// under /run/secrets.
type FileRef struct {
	Source string  `json:"source,omitempty"` // key in Project.Configs or Project.Secrets
	Target string  `json:"target,omitempty"`
	UID    *int    `json:"uid,omitempty,string"` // nil: 0
	GID    *int    `json:"gid,omitempty,string"` // nil: 0
	Mode   *uint32 `json:"mode,omitempty"`       // nil: 0444
}

// FileSource is a top-level config or secret: where its content comes from.
// Exactly one of File, Environment and Content is set unless External.
type FileSource struct {
	Name        string // real name, e.g. "hello_token"
	File        string // absolute path
	Environment string // name of the variable holding the content; its value: Project.LookupEnv
	Content     string // inline content (never rendered for secrets)
	External    bool
	// Digest is a SHA-256 of the content when the project was loaded, ""
	// for an external source or an unreadable file: containers record it
	// to be recreated when only the content changes.
	Digest string
}

// ServiceNetwork is a service's attachment to one project network.
type ServiceNetwork struct {
	Aliases     []string   `json:"aliases,omitempty"`
	IPv4Address netip.Addr `json:"ipv4_address,omitzero"`
	IPv6Address netip.Addr `json:"ipv6_address,omitzero"`
	MacAddress  string     `json:"mac_address,omitempty"`
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
	Propagation    string `json:"propagation,omitempty"` // binds: "" (rprivate, the default; an explicit "rprivate" is stored as ""), "private", "rshared", "shared", "rslave", "slave"
}

// Port is one published port.
type Port struct {
	HostIP    netip.Addr `json:"host_ip,omitzero"`   // invalid means every address
	Published PortRange  `json:"published,omitzero"` // zero for an ephemeral port
	Target    uint32     `json:"target,omitempty"`
	Protocol  string     `json:"protocol,omitempty"` // "tcp" or "udp"
}

// Dependency is one depends_on entry.
type Dependency struct {
	Condition string `json:"condition,omitempty"` // "service_started", "service_healthy", "service_completed_successfully"
	Required  bool   `json:"required,omitempty"`
	Restart   bool   `json:"restart,omitempty"` // restart the dependent when berth restarts this dependency
}

// Link is one links or external_links entry: "target" or "target:alias".
type Link struct {
	Target string `json:"target,omitempty"` // a service (links) or a container name (external_links)
	Alias  string `json:"alias,omitempty"`  // the name it is known by; the target's when not given
}

// Network is one project network.
type Network struct {
	Name       string // the real name, e.g. "hello_default", or the `name:` given
	Driver     string // "bridge"
	Internal   bool
	External   bool
	Labels     map[string]string
	IPAM       []IPAMPool
	EnableIPv6 bool
	DriverOpts map[string]string // e.g. com.docker.network.bridge.name, com.docker.network.driver.mtu
	MTU        int               // driver_opts com.docker.network.driver.mtu, parsed; 0: the kernel's default
}

// IPAMPool is one ipam.config entry of a network.
type IPAMPool struct {
	Subnet  netip.Prefix
	Gateway netip.Addr   // invalid: the subnet's first address
	IPRange netip.Prefix // inside Subnet, where container addresses come from; invalid: all of it
}

// Volume is one project volume.
type Volume struct {
	Name       string // the real name, e.g. "hello_data", or the `name:` given
	Driver     string // "local"
	External   bool
	Labels     map[string]string
	DriverOpts map[string]string // local driver: type, o, device
}

// ContainerName is the Docker Compose name of replica n (from 1) of a service.
func ContainerName(project, service string, n int) string {
	return project + Separator + service + Separator + strconv.Itoa(n)
}
