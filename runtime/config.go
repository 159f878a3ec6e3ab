package runtime

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/berth-dev/berth/lifecycle"
)

// Sentinel errors of the runtime, for errors.Is.
var (
	// ErrInvalidConfig reports a Config that cannot be run.
	ErrInvalidConfig = errors.New("invalid container config")
	// ErrRunning reports that a container is already running.
	ErrRunning = errors.New("container is running")
	// ErrNotFound reports a container without a directory.
	ErrNotFound = errors.New("container not found")
	// ErrNotRunning reports a container whose init is not alive.
	ErrNotRunning = errors.New("container is not running")
)

// DefaultStopSignal is the stop signal of a Config that names none.
const DefaultStopSignal = "SIGTERM"

// Config is everything the runtime needs to run one container. The caller
// has already merged image and service settings into it.
type Config struct {
	ID             string            // container name, e.g. "hello-web-1"
	Layers         []string          // image snapshot dirs, bottom first
	Args           []string          // process argv
	Env            []string          // complete environment; HOME, PATH, HOSTNAME added when missing
	Cwd            string            // working directory, "" = "/"
	User           string            // "", "name", "uid", "uid:gid", "name:group"
	Hostname       string            // container hostname
	Domainname     string            // NIS domain name (domainname), "" for none
	NetNS          string            // netns path to join, "host", or "" for a fresh empty netns
	Mounts         []Mount           // bind and tmpfs mounts
	ReadOnlyRootfs bool              // mount the rootfs read-only
	StopSignal     string            // "" = SIGTERM
	StopTimeout    time.Duration     // 0 = 10s
	Restart        string            // "no", "always", "on-failure[:N]", "unless-stopped"
	Labels         map[string]string // recorded as OCI annotations
	Health         *Health           // a health check the shim runs; nil for none
	Tty            bool              // the init gets a terminal, its output logged as stdout (tty: true)
	OpenStdin      bool              // stdin stays open for attached clients (stdin_open: true)
	StdinOnce      bool              // the first attached client's end of input closes stdin (berth run -i)
	Replayed       bool              `json:",omitempty"` // a client attaches at the start for the output so far (berth run): the starting shim keeps it
	ConsoleSize    WinSize           // the terminal's size at the start, with Tty
	Init           string            // host path of a static init run as PID 1 before Args (at InitPath); "" for none
	Resources      *Resources        // cgroup limits; nil for none
	Log            *LogConfig        // logging driver and rotation; nil: json-file, berth's default rotation
	Security       Security          `json:",omitzero"` // confinement: capabilities, seccomp, devices (runtime/security.go)

	// RestartDelay, when set, is the wait between an exit and a restart
	// in place of the growing back-off (deploy.restart_policy.delay).
	RestartDelay *time.Duration `json:",omitempty"`
	// RestartWindow, with on-failure:N, counts only the restarts of the
	// last RestartWindow toward N (deploy.restart_policy.window); 0 = all.
	RestartWindow time.Duration `json:",omitempty"`
}

// Health is a container's health check, as Docker runs it: the probe runs
// inside the container every Interval; Retries failures in a row (not
// counting those during StartPeriod) make it unhealthy, one success
// healthy.
type Health struct {
	Test        []string      // the probe's argv
	Interval    time.Duration // 0 = 30s
	Timeout     time.Duration // 0 = 30s
	StartPeriod time.Duration
	// StartInterval is the time between probes during StartPeriod, until
	// the first success (0 = 5s, Docker's default).
	StartInterval time.Duration
	Retries       int // 0 = 3
}

// Health statuses, as Docker names them.
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// Mount is one extra mount of a container.
type Mount struct {
	Type     string // "bind" or "tmpfs"
	Source   string // host path for bind mounts
	Target   string // absolute path inside the container
	ReadOnly bool
	Options  []string // extra mount options, e.g. "size=64m", "exec"
}

// NetNSHost is the Config.NetNS value that shares the host's network namespace.
const NetNSHost = "host"

// validID reports whether s is a non-empty run of letters, digits and
// "_+-." (checked by hand, not by a regexp compiled at every start of the
// shim and the container init, which link this package).
func validID(s string) bool {
	for _, r := range []byte(s) {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.IndexByte("_+-.", r) >= 0) {
			return false
		}
	}
	return s != ""
}

// Validate reports every problem of c at once; the error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	var probs []string
	add := func(f string, a ...any) { probs = append(probs, fmt.Sprintf(f, a...)) }
	if !validID(c.ID) || c.ID == "." || c.ID == ".." {
		add("id: %q is not a valid container id (letters, digits, _+-.)", c.ID)
	}
	if len(c.Layers) == 0 {
		add("layers: at least one layer is needed")
	}
	for i, l := range c.Layers {
		if !path.IsAbs(l) {
			add("layers[%d]: %q is not absolute", i, l)
		}
		if strings.ContainsAny(l, ":,") {
			add("layers[%d]: %q contains ':' or ','", i, l)
		}
	}
	if len(c.Args) == 0 {
		add("args: no command")
	}
	if c.Init != "" && !path.IsAbs(c.Init) {
		add("init: %q is not absolute", c.Init)
	}
	if c.Cwd != "" && !path.IsAbs(c.Cwd) {
		add("cwd: %q is not absolute", c.Cwd)
	}
	if c.NetNS != "" && c.NetNS != NetNSHost && !path.IsAbs(c.NetNS) {
		add("netns: %q is neither %q nor an absolute path", c.NetNS, NetNSHost)
	}
	for i, m := range c.Mounts {
		if !path.IsAbs(m.Target) {
			add("mounts[%d].target: %q is not absolute", i, m.Target)
		}
		switch m.Type {
		case "bind":
			if !path.IsAbs(m.Source) {
				add("mounts[%d].source: %q is not absolute", i, m.Source)
			}
		case "tmpfs":
		default:
			add("mounts[%d].type: %q is not bind or tmpfs", i, m.Type)
		}
	}
	if c.StopSignal != "" {
		if _, err := ParseSignal(c.StopSignal); err != nil {
			add("stop_signal: %v", err)
		}
	}
	if c.StopTimeout < 0 {
		add("stop_timeout: negative")
	}
	c.Security.validate(add)
	if _, err := ParseRestartPolicy(c.Restart); err != nil {
		add("restart: %v", err)
	}
	if c.RestartDelay != nil && *c.RestartDelay < 0 || c.RestartWindow < 0 {
		add("restart delay or window: negative")
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w %q: %s", ErrInvalidConfig, c.ID, strings.Join(probs, "; "))
	}
	return nil
}

// stopSignal is the configured stop signal name, defaulted.
func (c Config) stopSignal() string {
	if c.StopSignal == "" {
		return DefaultStopSignal
	}
	return c.StopSignal
}

// stopTimeout is the configured stop timeout, defaulted.
func (c Config) stopTimeout() time.Duration {
	if c.StopTimeout == 0 {
		return lifecycle.DefaultStopGrace
	}
	return c.StopTimeout
}

// State is what the runtime knows about one container now.
type State struct {
	Status     lifecycle.Status
	Pid        int // host pid of the container's init while running
	ExitCode   int // of the last exit; -1 when the exit went unobserved (shim killed)
	StartedAt  time.Time
	FinishedAt time.Time
	Restarts   int
	Shim       bool   // whether the container's shim is alive
	Health     string // "" without a health check, else HealthStarting, HealthHealthy or HealthUnhealthy
	OOMKilled  bool   // the OOM killer killed a process of the last run (Docker's State.OOMKilled)
	// Stopped: the last exit followed a user's stop or kill, after which
	// an unless-stopped container stays down when the host comes back.
	Stopped bool
}
