package spec

import (
	"cmp"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	units "github.com/docker/go-units"
	"github.com/moby/sys/capability"
)

// Security is how a service's containers are confined, as Docker confines
// them: capabilities, seccomp and the other security options, devices,
// the cgroup namespace. The zero value is Docker's default confinement.
type Security struct {
	CapAdd     []string `json:"cap_add,omitempty"`  // "CAP_NET_ADMIN" or "ALL", sorted
	CapDrop    []string `json:"cap_drop,omitempty"` // "CAP_CHOWN" or "ALL", sorted
	Privileged bool     `json:"privileged,omitempty"`
	// Seccomp is "" (Docker's default profile), "unconfined", or the
	// absolute path of a profile in Docker's format.
	Seccomp         string   `json:"seccomp,omitempty"`
	NoNewPrivileges bool     `json:"no_new_privileges,omitempty"`
	AppArmor        string   `json:"apparmor,omitempty"` // profile name; "" for the default
	Label           []string `json:"label,omitempty"`    // label= options (SELinux), in file order
	Devices         []Device `json:"devices,omitempty"`  // in file order
	// DeviceCgroupRules are Docker's "c 1:3 mr" rules, in file order.
	DeviceCgroupRules []string `json:"device_cgroup_rules,omitempty"`
	GroupAdd          []string `json:"group_add,omitempty"` // group names or ids, in file order
	Cgroup            string   `json:"cgroup,omitempty"`    // "", "host" or "private"
	// Sysctls are namespaced kernel parameters (those Docker accepts).
	Sysctls map[string]string `json:"sysctls,omitempty"`
	Ulimits map[string]Ulimit `json:"ulimits,omitempty"`  // key: "nofile", "nproc"...
	ShmSize int64             `json:"shm_size,omitempty"` // bytes of /dev/shm; 0: 64 MiB
	// Ipc is "" (private), "shareable", "host", "service:NAME" or
	// "container:NAME"; Pid is "", "host", "service:NAME" or
	// "container:NAME"; Uts is "" or "host".
	Ipc string `json:"ipc,omitempty"`
	Pid string `json:"pid,omitempty"`
	Uts string `json:"uts,omitempty"`
	// IpcContainer and PidContainer are the containers whose namespaces a
	// service: or container: Ipc or Pid joins.
	IpcContainer string `json:"ipc_container,omitempty"`
	PidContainer string `json:"pid_container,omitempty"`
	OomScoreAdj  int64  `json:"oom_score_adj,omitempty"`
}

// Ulimit is one resource limit.
type Ulimit struct {
	Soft int64 `json:"soft,omitempty"`
	Hard int64 `json:"hard,omitempty"`
}

// Device is one devices entry: the host's device at Source, made at Target
// in the container with Permissions (of "rwm").
type Device struct {
	Source      string `json:"source,omitempty"`
	Target      string `json:"target,omitempty"`
	Permissions string `json:"permissions,omitempty"`
}

// SeccompUnconfined is the Security.Seccomp value that runs without a filter.
const SeccompUnconfined = "unconfined"

// validDeviceRule is Docker's syntax of a device cgroup rule.
var validDeviceRule = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$`) })

// convertSecurity converts the keys of cs that confine its containers.
func convertSecurity(cs types.ServiceConfig, cp *types.Project, ps *problems) Security {
	workingDir := cp.WorkingDir
	at := serviceAt(cs.Name)
	sec := Security{Privileged: cs.Privileged, GroupAdd: nilIfNone(slices.Clone(cs.GroupAdd)),
		DeviceCgroupRules: nilIfNone(slices.Clone(cs.DeviceCgroupRules))}
	sec.CapAdd = capabilities(cs.CapAdd, ps, at("cap_add"))
	sec.CapDrop = capabilities(cs.CapDrop, ps, at("cap_drop"))
	for _, opt := range cs.SecurityOpt {
		securityOpt(&sec, opt, workingDir, ps, at("security_opt"))
	}
	for _, d := range cs.Devices {
		dev := Device{Source: d.Source, Target: cmp.Or(d.Target, d.Source), Permissions: cmp.Or(d.Permissions, "rwm")}
		switch {
		case !filepath.IsAbs(dev.Source) || !filepath.IsAbs(dev.Target):
			ps.invalid("devices "+strconv.Quote(d.Source)+": the host and container paths must be absolute", at("devices")...)
		case strings.Trim(dev.Permissions, "rwm") != "" || len(dev.Permissions) > 3:
			ps.invalid("devices "+strconv.Quote(d.Source)+": invalid device mode: "+dev.Permissions, at("devices")...)
		default:
			sec.Devices = append(sec.Devices, dev)
		}
	}
	for _, r := range cs.DeviceCgroupRules {
		if !validDeviceRule().MatchString(r) {
			ps.invalid("device_cgroup_rules: invalid device cgroup rule format: "+strconv.Quote(r), at("device_cgroup_rules")...)
		}
	}
	for _, g := range cs.GroupAdd {
		if g == "" || strings.ContainsAny(g, ":\n") {
			ps.invalid("group_add "+strconv.Quote(g)+" is not a group name or id", at("group_add")...)
		}
	}
	if len(cs.Gpus) > 0 {
		ps.unsupported("gpus (GPU access needs the NVIDIA container toolkit, which berth does not drive)", at("gpus")...)
	}
	if cs.Runtime != "" && cs.Runtime != "runc" {
		ps.unsupported("runtime "+strconv.Quote(cs.Runtime)+" (berth runs containers with runc's libcontainer only)", at("runtime")...)
	}
	convertNamespaces(&sec, cs, cp, ps)
	switch cs.Cgroup {
	case "", "host", "private":
		sec.Cgroup = cs.Cgroup
	default:
		ps.invalid(`cgroup `+strconv.Quote(cs.Cgroup)+` must be "host" or "private"`, at("cgroup")...)
	}
	return sec
}

// capabilities normalises capability names as Docker does ("net_admin" and
// "CAP_NET_ADMIN" are one; "ALL" stays), sorted, noting unknown ones.
func capabilities(names []string, ps *problems, at []string) []string {
	known := map[string]bool{}
	for _, c := range capability.ListKnown() {
		known["CAP_"+strings.ToUpper(c.String())] = true
	}
	var out []string
	for _, n := range names {
		c := strings.ToUpper(strings.TrimSpace(n))
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if c != "ALL" && !known[c] {
			ps.invalid(at[len(at)-1]+": unknown capability: "+strconv.Quote(n), at...)
			continue
		}
		out = append(out, c)
	}
	return sortedOrNil(out)
}

// securityOpt parses one security_opt entry as Docker does: seccomp=,
// no-new-privileges[:true|false], apparmor=, label=.
func securityOpt(sec *Security, opt, workingDir string, ps *problems, at []string) {
	key, val, ok := strings.Cut(opt, "=")
	if !ok {
		key, val, ok = strings.Cut(opt, ":") // Docker's older spelling
	}
	bad := func(msg string) { ps.invalid("security_opt "+strconv.Quote(opt)+": "+msg, at...) }
	switch key {
	case "no-new-privileges":
		if !ok {
			sec.NoNewPrivileges = true
			return
		}
		b, err := strconv.ParseBool(val)
		if err != nil {
			bad("invalid no-new-privileges value: must be true or false")
			return
		}
		sec.NoNewPrivileges = b
	case "seccomp":
		switch {
		case !ok || val == "":
			bad("seccomp needs a profile: seccomp=unconfined or seccomp=PATH.json")
		case val == SeccompUnconfined:
			sec.Seccomp = val
		default:
			if !filepath.IsAbs(val) {
				val = filepath.Join(workingDir, val)
			}
			sec.Seccomp = filepath.Clean(val)
		}
	case "apparmor":
		if !ok || val == "" {
			bad("apparmor needs a profile name")
			return
		}
		sec.AppArmor = val
	case "label":
		if !ok || val == "" {
			bad("label needs an option (user:, role:, type:, level:, disable, nested)")
			return
		}
		sec.Label = append(sec.Label, val)
	case "systempaths", "writable-cgroups":
		ps.unsupported("security_opt "+key, at...)
	default:
		bad(`invalid --security-opt: must be seccomp=, no-new-privileges, apparmor= or label=`)
	}
}

// convertNamespaces converts sysctls, ulimits, shm_size, ipc, pid, uts and
// oom_score_adj: Docker's checks, service: references resolved to the
// target's first container (which it then depends on).
func convertNamespaces(sec *Security, cs types.ServiceConfig, cp *types.Project, ps *problems) {
	at := serviceAt(cs.Name)
	for k, v := range cs.Sysctls {
		if !namespacedSysctl(k) {
			ps.invalid("sysctls: sysctl '"+k+"="+v+"' is not allowed", at("sysctls", k)...)
			continue
		}
		if strings.HasPrefix(k, "net.") && cs.NetworkMode == "host" {
			ps.invalid("sysctls: sysctl '"+k+"' is not allowed in the host network namespace (network_mode: host)", at("sysctls", k)...)
			continue
		}
		if !strings.HasPrefix(k, "net.") && cs.Ipc == "host" {
			ps.invalid("sysctls: sysctl '"+k+"' is not allowed in the host IPC namespace (ipc: host)", at("sysctls", k)...)
			continue
		}
		if sec.Sysctls == nil {
			sec.Sysctls = map[string]string{}
		}
		sec.Sysctls[k] = v
	}
	for name, u := range cs.Ulimits {
		if u == nil {
			continue
		}
		l := Ulimit{Soft: int64(u.Soft), Hard: int64(u.Hard)}
		if u.Single != 0 {
			l = Ulimit{Soft: int64(u.Single), Hard: int64(u.Single)}
		}
		if _, err := units.ParseUlimit(name + "=" + strconv.FormatInt(l.Soft, 10) + ":" + strconv.FormatInt(l.Hard, 10)); err != nil {
			ps.invalid("ulimits "+name+": "+err.Error(), at("ulimits", name)...)
			continue
		}
		if sec.Ulimits == nil {
			sec.Ulimits = map[string]Ulimit{}
		}
		sec.Ulimits[name] = l
	}
	sec.ShmSize = int64(cs.ShmSize)
	if sec.ShmSize < 0 {
		ps.invalid("shm_size must not be negative", at("shm_size")...)
	}
	sec.Ipc, sec.IpcContainer = sharedNamespace(cs.Ipc, "ipc", []string{"", "private", "shareable", "host"}, cp, ps, at("ipc"))
	sec.Pid, sec.PidContainer = sharedNamespace(cs.Pid, "pid", []string{"", "host"}, cp, ps, at("pid"))
	if sec.Ipc == "private" {
		sec.Ipc = "" // Docker's default, spelled out
	}
	switch cs.Uts {
	case "", "host":
		sec.Uts = cs.Uts
	default:
		ps.invalid(`uts `+strconv.Quote(cs.Uts)+` must be "host"`, at("uts")...)
	}
	if sec.Uts == "host" && cs.Hostname != "" {
		ps.invalid("conflicting options: hostname and uts: host", at("uts")...)
	}
	sec.OomScoreAdj = cs.OomScoreAdj
	if sec.OomScoreAdj < -1000 || sec.OomScoreAdj > 1000 {
		ps.invalid("oom_score_adj "+strconv.FormatInt(sec.OomScoreAdj, 10)+" is not between -1000 and 1000", at("oom_score_adj")...)
	}
}

// namespacedSysctl reports whether Docker lets a container set sysctl k:
// those of its own network and IPC namespaces.
func namespacedSysctl(k string) bool {
	switch k {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return true
	}
	return strings.HasPrefix(k, "net.") || strings.HasPrefix(k, "fs.mqueue.")
}

// sharedNamespace checks an ipc or pid mode: one of plain, or
// service:NAME (an enabled service, whose first container it names) or
// container:NAME.
func sharedNamespace(mode, key string, plain []string, cp *types.Project, ps *problems, at []string) (string, string) {
	if slices.Contains(plain, mode) {
		return mode, ""
	}
	if name, ok := strings.CutPrefix(mode, types.ServicePrefix); ok && name != "" {
		if !checkServiceRef(cp, name, key+" "+strconv.Quote(mode), ps, at) {
			return "", ""
		}
		target := cp.Services[name]
		return mode, cmp.Or(target.ContainerName, ContainerName(cp.Name, name, 1))
	}
	if name, ok := strings.CutPrefix(mode, types.ContainerPrefix); ok && name != "" {
		return mode, name
	}
	ps.invalid(key+" "+strconv.Quote(mode)+" must be one of "+strings.Join(slices.DeleteFunc(slices.Clone(plain), func(s string) bool { return s == "" }), ", ")+
		", service:NAME or container:NAME", at...)
	return "", ""
}

// normalize sorts what has no order and drops empty lists.
func (s *Security) normalize() {
	s.CapAdd = sortedOrNil(s.CapAdd)
	s.CapDrop = sortedOrNil(s.CapDrop)
	s.Label = nilIfNone(s.Label)
	s.Devices = nilIfNone(s.Devices)
	s.DeviceCgroupRules = nilIfNone(s.DeviceCgroupRules)
	s.GroupAdd = nilIfNone(s.GroupAdd)
	s.Sysctls = nilIfEmpty(s.Sysctls)
	s.Ulimits = nilIfEmpty(s.Ulimits)
}
