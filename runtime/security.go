package runtime

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Security is how a container is confined; the zero value is Docker's
// default confinement (its capabilities, its seccomp profile, its masked
// paths, no devices beyond the standard ones).
type Security struct {
	CapAdd     []string `json:",omitempty"` // "CAP_NET_ADMIN" or "ALL"
	CapDrop    []string `json:",omitempty"` // "CAP_CHOWN" or "ALL"
	Privileged bool     `json:",omitempty"` // every capability and device, no seccomp, /sys and /proc writable
	// Seccomp is "" for Docker's default profile, SeccompUnconfined, or a
	// profile in Docker's JSON format.
	Seccomp         string   `json:",omitempty"`
	NoNewPrivileges bool     `json:",omitempty"`
	AppArmor        string   `json:",omitempty"` // profile name; needs AppArmor on the host unless "unconfined"
	Label           []string `json:",omitempty"` // SELinux label options; need SELinux unless "disable"
	Devices         []Device `json:",omitempty"`
	// DeviceRules are device cgroup rules in Docker's form: "c 1:3 mr".
	DeviceRules []string `json:",omitempty"`
	GroupAdd    []string `json:",omitempty"` // supplementary groups, names (of the image's /etc/group) or ids
	CgroupNS    string   `json:",omitempty"` // "" (Docker's default: private on cgroup v2, host on v1), "host", "private"

	Sysctls map[string]string `json:",omitempty"` // namespaced sysctls, set in the container's namespaces
	Rlimits []Rlimit          `json:",omitempty"`
	ShmSize int64             `json:",omitempty"` // bytes of /dev/shm; 0: 64 MiB
	// IpcMode and PidMode are "" (private), "host", or "container:NAME"
	// (the namespace of that running container, found at each start);
	// IpcMode may be IpcShareable too.
	IpcMode     string `json:",omitempty"`
	PidMode     string `json:",omitempty"`
	UtsHost     bool   `json:",omitempty"` // the host's UTS namespace (and so its hostname)
	OomScoreAdj int    `json:",omitempty"`
}

// Rlimit is one resource limit of the container's processes.
type Rlimit struct {
	Type       string // "RLIMIT_NOFILE"
	Soft, Hard uint64
}

// Device is a host device made available in the container.
type Device struct {
	Source      string // host path
	Target      string // path in the container
	Permissions string // of "rwm"
}

// IpcShareable is the IpcMode of a container whose IPC namespace others
// may join: a private one whose /dev/shm is a tmpfs on the host, which
// they bind too (Docker's ipc: shareable).
const IpcShareable = "shareable"

// SeccompUnconfined is the Security.Seccomp value that installs no filter.
const SeccompUnconfined = "unconfined"

// hostFacts are what the shim found on the host for a container's
// confinement, so that applying it stays pure.
type hostFacts struct {
	AllCaps     []string            // every capability the kernel knows, "CAP_..."
	Devices     []specs.LinuxDevice // Security.Devices resolved (Path is the container's), or every host device when privileged
	GroupAdd    []int               // Security.GroupAdd resolved
	CgroupV2    bool                // the host runs the unified cgroup hierarchy
	AppArmor    bool                // AppArmor is enabled on the host
	SELinux     string              // process label of Security.Label, "" without SELinux or labels
	MountLabel  string
	SELinuxHost bool
	IpcNS       string // the namespace IpcMode container: joins, /proc/PID/ns/ipc
	// IpcHost: the container IpcMode container: joins is in the host's
	// IPC namespace (its ipc is host), so the joiner is too, /dev/shm
	// included, as in Docker.
	IpcHost bool
	// ShmPath is the host's tmpfs bound at /dev/shm: the container's own
	// when it is shareable, else that of the container whose IPC it joins.
	ShmPath string
	PidNS   string // the namespace PidMode container: joins
}

// validate appends the problems of s to add.
func (s Security) validate(add func(string, ...any)) {
	for _, r := range s.DeviceRules {
		if _, err := parseDeviceRule(r); err != nil {
			add("device rule: %v", err)
		}
	}
	switch s.CgroupNS {
	case "", "host", "private":
	default:
		add("cgroupns: %q is not host or private", s.CgroupNS)
	}
	for _, m := range []string{s.IpcMode, s.PidMode} {
		if m == s.IpcMode && m == IpcShareable {
			continue
		}
		if name, ok := strings.CutPrefix(m, "container:"); (m != "" && m != "host" && !ok) || (ok && !validID(name)) {
			add("namespace mode %q is not host or container:NAME", m)
		}
	}
}

// capabilitySet is the container's capability set from Docker's default
// (basics), as Docker tweaks it: privileged gets all; cap_add ALL is all
// but those dropped; cap_drop ALL is only those added; else the basics
// less those dropped plus those added.
func capabilitySet(basics, all []string, s Security) []string {
	if s.Privileged {
		return slices.Clone(all)
	}
	var caps []string
	switch {
	case slices.Contains(s.CapAdd, "ALL"):
		for _, c := range all {
			if !slices.Contains(s.CapDrop, c) {
				caps = append(caps, c)
			}
		}
	case slices.Contains(s.CapDrop, "ALL"):
		caps = slices.Clone(s.CapAdd)
	default:
		for _, c := range basics {
			if !slices.Contains(s.CapDrop, c) {
				caps = append(caps, c)
			}
		}
		for _, c := range s.CapAdd {
			if !slices.Contains(caps, c) {
				caps = append(caps, c)
			}
		}
	}
	return caps
}

// applySecurity confines sp as s says, with the host's facts h. It does
// no I/O; seccomp is applied after it (applySeccomp), over the
// capabilities it sets.
func applySecurity(sp *specs.Spec, s Security, h hostFacts) error {
	caps := capabilitySet(defaultCapabilities, h.AllCaps, s)
	sp.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	sp.Process.NoNewPrivileges = s.NoNewPrivileges
	sp.Process.User.AdditionalGids = append(sp.Process.User.AdditionalGids, toUint32s(h.GroupAdd)...)
	if s.AppArmor != "" && s.AppArmor != "unconfined" {
		if !h.AppArmor {
			return fmt.Errorf("%w: security_opt apparmor=%s: AppArmor is not enabled on this host", ErrInvalidConfig, s.AppArmor)
		}
		sp.Process.ApparmorProfile = s.AppArmor
	}
	if labelsAsked(s.Label) && !h.SELinuxHost {
		return fmt.Errorf("%w: security_opt label=%s: SELinux is not enabled on this host", ErrInvalidConfig, strings.Join(s.Label, ","))
	}
	sp.Process.SelinuxLabel, sp.Linux.MountLabel = h.SELinux, h.MountLabel

	if s.CgroupNS == "private" || (s.CgroupNS == "" && h.CgroupV2) {
		sp.Linux.Namespaces = append(sp.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}

	applyNamespaces(sp, s, h)
	sp.Linux.Devices = append(sp.Linux.Devices, h.Devices...)
	if s.Privileged {
		sp.Linux.MaskedPaths, sp.Linux.ReadonlyPaths = nil, nil
		for i := range sp.Mounts {
			if sp.Mounts[i].Destination == "/sys" || sp.Mounts[i].Type == "cgroup" {
				sp.Mounts[i].Options = slices.DeleteFunc(slices.Clone(sp.Mounts[i].Options), func(o string) bool { return o == "ro" })
			}
		}
		sp.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		return nil
	}
	for _, d := range h.Devices {
		major, minor := d.Major, d.Minor
		sp.Linux.Resources.Devices = append(sp.Linux.Resources.Devices,
			specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Major: &major, Minor: &minor, Access: permsOf(s.Devices, d.Path)})
	}
	for _, r := range s.DeviceRules {
		rule, err := parseDeviceRule(r)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		sp.Linux.Resources.Devices = append(sp.Linux.Resources.Devices, rule)
	}
	return nil
}

// applyNamespaces shares or keeps the ipc, pid and uts namespaces as s
// says, and sets sysctls, resource limits, the size of /dev/shm and the
// OOM score adjustment. A shareable container's /dev/shm, and that of one
// joining its IPC namespace, is the host's tmpfs h.ShmPath (sized when it
// was mounted), as Docker binds it: POSIX shared memory is shared with
// System V IPC and message queues.
func applyNamespaces(sp *specs.Spec, s Security, h hostFacts) {
	set := func(t specs.LinuxNamespaceType, mode, path string) {
		for i, ns := range sp.Linux.Namespaces {
			if ns.Type != t {
				continue
			}
			switch {
			case mode == "host":
				sp.Linux.Namespaces = slices.Delete(sp.Linux.Namespaces, i, i+1)
			case path != "":
				sp.Linux.Namespaces[i].Path = path
			}
			return
		}
	}
	ipcMode := s.IpcMode
	if h.IpcHost {
		ipcMode = "host"
	}
	set(specs.IPCNamespace, ipcMode, h.IpcNS)
	set(specs.PIDNamespace, s.PidMode, h.PidNS)
	if s.UtsHost {
		set(specs.UTSNamespace, "host", "")
		sp.Hostname, sp.Domainname = "", ""
	}
	for i, m := range sp.Mounts {
		if m.Destination != "/dev/shm" || m.Source != "shm" {
			continue // the user's own /dev/shm wins
		}
		switch {
		case ipcMode == "host":
			sp.Mounts[i] = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "rprivate"}}
		case h.ShmPath != "":
			sp.Mounts[i] = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: h.ShmPath, Options: []string{"rbind", "rprivate", "nosuid", "noexec", "nodev"}}
		case s.ShmSize > 0:
			sp.Mounts[i].Options = append(slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return strings.HasPrefix(o, "size=") }),
				"size="+strconv.FormatInt(s.ShmSize, 10))
		}
	}
	if len(s.Sysctls) > 0 {
		sp.Linux.Sysctl = s.Sysctls
	}
	for _, r := range s.Rlimits {
		sp.Process.Rlimits = append(sp.Process.Rlimits, specs.POSIXRlimit{Type: r.Type, Soft: r.Soft, Hard: r.Hard})
	}
	if s.OomScoreAdj != 0 {
		adj := s.OomScoreAdj
		sp.Process.OOMScoreAdj = &adj
	}
}

// labelsAsked reports whether the label options ask SELinux for a label
// (label=disable and nested do not).
func labelsAsked(opts []string) bool {
	return slices.ContainsFunc(opts, func(o string) bool { return o != "disable" && o != "nested" })
}

// permsOf is the permissions of the device made at target.
func permsOf(ds []Device, target string) string {
	for _, d := range ds {
		if d.Target == target {
			return d.Permissions
		}
	}
	return "rwm"
}

// parseDeviceRule parses Docker's device cgroup rule "c 1:3 mr" ("*" for
// any major or minor; type a for all devices).
func parseDeviceRule(r string) (specs.LinuxDeviceCgroup, error) {
	f := strings.Fields(r)
	bad := fmt.Errorf("invalid device cgroup rule format: %q", r)
	if len(f) != 3 || (f[0] != "a" && f[0] != "b" && f[0] != "c") || strings.Trim(f[2], "rwm") != "" {
		return specs.LinuxDeviceCgroup{}, bad
	}
	majS, minS, ok := strings.Cut(f[1], ":")
	if !ok {
		return specs.LinuxDeviceCgroup{}, bad
	}
	num := func(s string) (*int64, error) {
		if s == "*" {
			return nil, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return &n, err
	}
	major, err1 := num(majS)
	minor, err2 := num(minS)
	if err1 != nil || err2 != nil {
		return specs.LinuxDeviceCgroup{}, bad
	}
	return specs.LinuxDeviceCgroup{Allow: true, Type: f[0], Major: major, Minor: minor, Access: f[2]}, nil
}
