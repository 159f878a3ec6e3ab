package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// Observed is what is really on the host for one project: what berth
// recorded, checked against the kernel.
type Observed struct {
	Containers []Container         // the project's containers, by name
	Networks   map[string]Presence // by real name ("hello_default"), every network the project refers to
	Volumes    map[string]Presence // by real name ("hello_data"), every volume the project refers to
	Images     map[string]string   // image reference as written in the stack file -> local image ID; absent when not stored
	// ImageConfigs are the configurations of the local images, by
	// reference: what the containers' processes are merged from.
	ImageConfigs map[string]ImageConfig
	// Peers are the other projects with a container on a network one of
	// this project's containers is on: their /etc/hosts list this
	// project's containers.
	Peers []string
	// Builds are, by image reference, what the services that build their
	// image would build from now and what the local image was built from.
	Builds map[string]BuildState
	// Pulled is when each local image (by reference as written) was last
	// pulled, zero when never; At is when the host was observed. Together
	// they decide pull_policy refresh (daily, weekly, every_<duration>).
	Pulled map[string]time.Time
	At     time.Time
}

// Presence says whether berth recorded an object and whether it really exists.
type Presence struct {
	Recorded bool   // in berth's store
	Exists   bool   // on the host (bridge present, volume directory present)
	Changed  string // what the stack file now declares differently from what was made ("internal", "subnet"); "" when the same
	// Empty says the volume exists and holds nothing yet: a container
	// created on it fills it from its image (Docker's copy-up).
	Empty bool
	// Strays says the network's bridge holds container links that no
	// recorded container has (left by a removal cut short while a process
	// outside berth held the namespace): its creation deletes them.
	Strays bool
}

// Container is one observed container.
type Container struct {
	Name     string
	Service  string
	Number   int
	Hash     string       // the config hash recorded at creation
	ImageID  string       // the image it was created from
	Spec     spec.Service // the service spec recorded at creation
	State    lifecycle.Status
	ExitCode int
	Drift    string            // what of its host plumbing is gone (a detached link, lost port rules); "" when intact
	OneOff   bool              // made by `berth run`: never compared with its service, never an orphan
	Volumes  []AnonymousVolume // its anonymous volumes, by target
	Contents map[string]string // digests of its configs' and secrets' contents (see Contents); nil if it recorded none
	// Unsupervised says it runs but its shim died: nothing logs its
	// output, restarts it or checks its health any more.
	Unsupervised bool
	// Unplumbed says it is stopped and what berth made for it under the
	// run root (network namespace, links, /etc files, port rules) is gone,
	// as after a reboot: a Restore makes them again before it starts,
	// keeping its writable layer, addresses and volumes.
	Unplumbed bool
	// Stopped says its last run was ended by the user (berth stop, or a
	// kill that ends its restart policy), not by itself.
	Stopped bool
}

// AnonymousVolume is a container's volume without a name in the stack
// file: at a bare `- /path`, or at a VOLUME of its image.
type AnonymousVolume struct {
	Target string // where the container mounts it
	Name   string // its real name, 64 hex digits
}

// Kind is what an action does.
type Kind string

// Action kinds, in the order a plan lists them.
const (
	Pull          Kind = "pull"
	Push          Kind = "push"
	CreateNetwork Kind = "create-network"
	CreateVolume  Kind = "create-volume"
	FillVolume    Kind = "fill-volume" // copy an image's content at a path into an empty volume
	Stop          Kind = "stop"
	Remove        Kind = "remove"
	Create        Kind = "create"
	Start         Kind = "start"
	WaitExit      Kind = "wait"
	WaitHealthy   Kind = "wait-healthy"
	WaitReady     Kind = "wait-ready" // running, and healthy when it has a health check (up --wait)
	RefreshHosts  Kind = "refresh-hosts"
	RemoveNetwork Kind = "remove-network"
	RemoveVolume  Kind = "remove-volume"
	Untag         Kind = "untag"          // take an image's entry out of the store
	CollectImages Kind = "collect-images" // delete the image layers nothing needs
	Kill          Kind = "kill"           // send a signal to a container's init
	Pause         Kind = "pause"          // freeze a container's processes
	Unpause       Kind = "unpause"        // thaw them
	Restore       Kind = "restore"        // make a stopped container's run-root plumbing again (after a reboot)
	UpdateLimits  Kind = "update-limits"  // change a container's cgroup limits in place
	SwitchPorts   Kind = "switch-ports"   // move published ports from one container to its start-first successor
	Delay         Kind = "delay"          // wait Timeout between two batches of a start-first rollout
	// RecordContents records the digests of the watched binds a container
	// restarted (or left stopped) mounts now: no new container needed.
	RecordContents Kind = "record-contents"
	// Drain waits, at most Timeout, until the connections a container
	// replaced start-first still serves have ended.
	Drain Kind = "drain"
)

// Action is one step of a plan, with everything Apply needs to carry it out
// and the reason it is needed.
type Action struct {
	ID      string   `json:"id"` // unique within the plan, e.g. "container:hello-web-1"
	Kind    Kind     `json:"kind"`
	Target  string   `json:"target"` // image reference, network, volume or container name
	Service string   `json:"service,omitempty"`
	Reason  string   `json:"reason"`
	After   []string `json:"after,omitempty"` // IDs of actions that must succeed first
	// Regardless: run once the After actions have finished, whether they
	// succeeded or not (refreshing /etc/hosts must follow whatever did happen).
	Regardless bool           `json:"-"`
	Timeout    time.Duration  `json:"-"`                  // stop grace period for Stop and Remove; for a wait, how long it may take (0: no limit)
	Container  *ContainerSpec `json:"-"`                  // for Create
	Network    *spec.Network  `json:"-"`                  // for CreateNetwork
	Volume     *spec.Volume   `json:"-"`                  // for CreateVolume
	Key        string         `json:"-"`                  // the network's or volume's name in the stack file
	Platform   string         `json:"platform,omitempty"` // for Pull: "" is the host's
	Image      *ImageEntry    `json:"-"`                  // for Untag
	Fill       *Fill          `json:"fill,omitempty"`     // for FillVolume
	// Process is, for Create, what the container will run: the service
	// merged over its image's configuration. Nil while the image is not
	// local yet (up pulls it, then plans again).
	Process *Process `json:"process,omitempty"`
	// Completes says, for WaitReady, that the container may also have
	// exited with code 0: a one-shot service (restart "no") that is done.
	Completes bool `json:"completes,omitempty"`
	// Signal is, for Kill, the signal sent.
	Signal *lifecycle.Signal `json:"signal,omitempty"`
	Build  *BuildSpec        `json:"-"` // for Build
	// Soft are those of After whose failure does not hold this action
	// back: the gates of a depends_on with required: false.
	Soft []string `json:"-"`
	// Optional marks a dependency wait no dependent requires: its failure
	// is a warning (reported as Skipped with the reason), not an error.
	Optional bool `json:"optional,omitempty"`
	// Replaces is, for a Create and a SwitchPorts of a start-first
	// rollout, the container the new one takes over from.
	Replaces string `json:"replaces,omitempty"`
	// OnFailure makes the action run only when one of its After actions
	// failed (a start-first rollback); otherwise it is left out.
	OnFailure bool `json:"on_failure,omitempty"`
	// Successor is, for the Remove of a container a start-first
	// rollout replaces, the container that took over from it.
	Successor string `json:"successor,omitempty"`
	// SweptBy is, for a Remove, the networks removed after it in the same
	// plan, whose removal waits for its links on them (see SweptBy).
	SweptBy []string `json:"-"`
}

// Fill is where a FillVolume action copies from: a path in an image.
type Fill struct {
	Image string `json:"image"`
	Path  string `json:"path"`
}

// ContainerSpec is everything needed to make one container of a service.
type ContainerSpec struct {
	Project  string
	Name     string
	Number   int
	Hash     string
	Service  spec.Service
	Networks map[string]spec.Network // the service's networks by key
	Volumes  map[string]spec.Volume  // the service's named volumes by key
	// Configs and Secrets are the sources the service uses, by key, with an
	// `environment:` source resolved into Content. Never recorded or printed.
	Configs map[string]spec.FileSource
	Secrets map[string]spec.FileSource
	// Watched are the service's read-only binds declared as configuration,
	// with the digests of their content at load (spec.WatchedBind).
	Watched []spec.WatchedBind
	// Shares is the container whose network namespace (and /etc files)
	// this one joins, resolved from network_mode service: or container:.
	Shares string
	// VolumesFrom are the containers whose volumes this one mounts too,
	// resolved from volumes_from.
	VolumesFrom []MountsFrom
	// Anonymous are its anonymous volumes' names, by target: the
	// predecessor's when it is recreated, as Docker Compose keeps them.
	Anonymous map[string]string
	// Process is what it runs, merged from the service and its image's
	// configuration; nil while the image is not local.
	Process *Process
	// OneOff marks a container `berth run` makes (Docker Compose's
	// com.docker.compose.oneoff label).
	OneOff bool
	// Standby makes its published ports wait: a start-first successor
	// gets them from the container it replaces by a SwitchPorts action.
	Standby bool
	// Prestart says the plan starts it once its dependencies have
	// started (no wait for a health or an exit comes before): the engine
	// then makes its init right after its creation, beside the steps
	// before its start, which only runs its process (runc create, then
	// runc start).
	Prestart bool
	// Starts says the plan starts it after its creation (not `create`,
	// not `up --no-start`): the engine may ready what its start needs
	// while it is made.
	Starts bool

	// ConfigFiles and WorkingDir are the project's compose files and
	// directory, recorded on the container as Docker Compose labels it.
	ConfigFiles []string
	WorkingDir  string
}

// MountsFrom is one resolved volumes_from entry.
type MountsFrom struct {
	Container string
	ReadOnly  bool
}

// Plan is the ordered list of actions that brings the host to the project.
type Plan struct {
	Project  string   `json:"project"`
	Actions  []Action `json:"actions"`
	Warnings []string `json:"warnings,omitempty"`
	// Held are the stopped containers the plan leaves stopped, with why
	// (Options.KeepStopped).
	Held []Held `json:"held,omitempty"`
}

// Held is a stopped container a plan leaves stopped.
type Held struct {
	Container string `json:"container"`
	Service   string `json:"service"`
	Reason    string `json:"reason"`
}

// Options change what Plan decides.
type Options struct {
	Services      []string       // only these services (and what they depend on); empty: all
	ForceRecreate bool           // recreate the named services' containers (all when none is named) even when unchanged
	RemoveOrphans bool           // remove containers of services no longer in the project
	IgnoreOrphans bool           // and without RemoveOrphans, say nothing of them (COMPOSE_IGNORE_ORPHANS)
	Timeout       *time.Duration // stop grace period overriding the services'
	SkipPull      bool           // plan no pulls (images were just pulled)
	NoStart       bool           // create containers, start none (create, up --no-start)
	NoRecreate    bool           // keep existing containers even when changed (--no-recreate)
	// NoDeps plans only the named services, not what they depend on (--no-deps).
	NoDeps bool
	// AlwaysRecreateDeps recreates the containers of the services the named
	// ones depend on, as ForceRecreate does the named ones' (--always-recreate-deps).
	AlwaysRecreateDeps bool
	// RenewAnonVolumes recreates the named services' containers with new
	// anonymous volumes instead of their predecessors', whose are removed
	// (-V, --renew-anon-volumes); recreated dependencies get new ones too.
	RenewAnonVolumes bool
	// Wait plans, after the starts, a wait for every selected service's
	// containers to be running and healthy, or done (up --wait).
	Wait bool
	// WaitTimeout bounds every wait of the plan (up --wait-timeout); 0: no
	// limit.
	WaitTimeout time.Duration
	// WaitOnChange is Wait for a plan that changes something, and no wait
	// for one that does not (reconcile --rollback: a pass fails, and its
	// commit is rolled back, when what it started does not come up).
	WaitOnChange bool
	Build        bool     // build every selected service's image that builds (--build)
	NoBuild      bool     // build none; an absent image is an error (--no-build)
	SkipBuild    bool     // plan no builds (images were just built)
	Rebuilt      []string // images just built: containers made from another image of theirs are recreated "image rebuilt"
	// KeepStopped leaves stopped the containers the user stopped and those
	// their restart policy leaves down (reconcile, its watch loop): they
	// are listed in the plan's Held.
	KeepStopped bool
}

// AnonymousKey is how an anonymous volume is recorded: by the container
// and the path it serves.
func AnonymousKey(container, target string) string { return "anon:" + container + ":" + target }

// AnonymousOwner is the container and path an anonymous volume's key
// names; ok is false for a named volume's key.
func AnonymousOwner(key string) (container, target string, ok bool) {
	rest, ok := strings.CutPrefix(key, "anon:")
	if !ok {
		return "", "", false
	}
	container, target, _ = strings.Cut(rest, ":")
	return container, target, true
}

// anonymousName is the name of a new anonymous volume of container at
// target: 64 hex digits, as Docker's, the same whenever it is planned.
func anonymousName(project, container, target string) string {
	h := sha256.Sum256([]byte(project + "\x00" + container + "\x00" + target))
	return hex.EncodeToString(h[:])
}
