package runtime

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var allCaps = append(slices.Clone(defaultCapabilities), "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_TIME")

func TestCapabilitySet(t *testing.T) {
	tests := []struct {
		name string
		s    Security
		want []string
	}{
		{"default", Security{}, defaultCapabilities},
		{"add", Security{CapAdd: []string{"CAP_NET_ADMIN"}}, append(slices.Clone(defaultCapabilities), "CAP_NET_ADMIN")},
		{"drop", Security{CapDrop: []string{"CAP_CHOWN", "CAP_KILL"}}, slices.DeleteFunc(slices.Clone(defaultCapabilities),
			func(c string) bool { return c == "CAP_CHOWN" || c == "CAP_KILL" })},
		{"drop all", Security{CapDrop: []string{"ALL"}}, nil},
		{"drop all add one", Security{CapDrop: []string{"ALL"}, CapAdd: []string{"CAP_KILL"}}, []string{"CAP_KILL"}},
		{"add all drop one", Security{CapAdd: []string{"ALL"}, CapDrop: []string{"CAP_SYS_TIME"}}, allCaps[:len(allCaps)-1]},
		{"privileged ignores drops", Security{Privileged: true, CapDrop: []string{"ALL"}}, allCaps},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := capabilitySet(defaultCapabilities, allCaps, tc.s); !slices.Equal(got, tc.want) {
				t.Errorf("caps = %q, want %q", got, tc.want)
			}
		})
	}
}

func securedSpec(t *testing.T, s Security, h hostFacts) *specs.Spec {
	t.Helper()
	c := baseConfig()
	c.Security = s
	sp, err := BuildSpec(c, SpecInput{Rootfs: "/r/rootfs", CgroupParent: "berth", User: Identity{Home: "/root"}, host: h})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestApplySecurityPrivileged(t *testing.T) {
	null := specs.LinuxDevice{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}
	sp := securedSpec(t, Security{Privileged: true}, hostFacts{AllCaps: allCaps, Devices: []specs.LinuxDevice{null}})
	if sp.Linux.MaskedPaths != nil || sp.Linux.ReadonlyPaths != nil {
		t.Errorf("privileged keeps masked %q, read-only %q", sp.Linux.MaskedPaths, sp.Linux.ReadonlyPaths)
	}
	for _, m := range sp.Mounts {
		if (m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup") && slices.Contains(m.Options, "ro") {
			t.Errorf("privileged: %s is read-only", m.Destination)
		}
	}
	if got := sp.Linux.Resources.Devices; len(got) != 1 || !got[0].Allow || got[0].Access != "rwm" || got[0].Type != "" {
		t.Errorf("device rules %+v, want allow all", got)
	}
	if !slices.Equal(sp.Process.Capabilities.Bounding, allCaps) || !slices.Contains(sp.Linux.Devices, null) {
		t.Errorf("caps %q devices %+v", sp.Process.Capabilities.Bounding, sp.Linux.Devices)
	}
}

func TestApplySecurityDevicesAndRules(t *testing.T) {
	null := specs.LinuxDevice{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3}
	s := Security{Devices: []Device{{"/dev/null", "/dev/mynull", "rw"}}, DeviceRules: []string{"c 10:* rm"},
		GroupAdd: []string{"audio"}, NoNewPrivileges: true}
	sp := securedSpec(t, s, hostFacts{Devices: []specs.LinuxDevice{null}, GroupAdd: []int{29}})
	var rules []string
	for _, r := range sp.Linux.Resources.Devices {
		maj, min := "*", "*"
		if r.Major != nil {
			maj = strconv.FormatInt(*r.Major, 10)
		}
		if r.Minor != nil {
			min = strconv.FormatInt(*r.Minor, 10)
		}
		rules = append(rules, map[bool]string{true: "allow", false: "deny"}[r.Allow]+" "+r.Type+" "+maj+":"+min+" "+r.Access)
	}
	if want := []string{"deny  *:* rwm", "allow c 1:3 rw", "allow c 10:* rm"}; !slices.Equal(rules, want) {
		t.Errorf("device rules %q, want %q", rules, want)
	}
	if !slices.Contains(sp.Linux.Devices, null) || !slices.Contains(sp.Process.User.AdditionalGids, 29) || !sp.Process.NoNewPrivileges {
		t.Errorf("devices %+v gids %v nnp %v", sp.Linux.Devices, sp.Process.User.AdditionalGids, sp.Process.NoNewPrivileges)
	}
}

func TestApplySecurityCgroupNS(t *testing.T) {
	has := func(sp *specs.Spec) bool {
		return slices.ContainsFunc(sp.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.CgroupNamespace })
	}
	for _, tc := range []struct {
		mode string
		v2   bool
		want bool
	}{{"", true, true}, {"", false, false}, {"host", true, false}, {"private", false, true}} {
		if got := has(securedSpec(t, Security{CgroupNS: tc.mode}, hostFacts{CgroupV2: tc.v2})); got != tc.want {
			t.Errorf("cgroup %q on v2=%v: private cgroupns %v, want %v", tc.mode, tc.v2, got, tc.want)
		}
	}
}

func TestApplySecurityRefusesWhatTheHostLacks(t *testing.T) {
	c := baseConfig()
	for _, s := range []Security{{AppArmor: "docker-default"}, {Label: []string{"type:svirt_t"}}} {
		c.Security = s
		if _, err := BuildSpec(c, SpecInput{Rootfs: "/r/rootfs", User: Identity{Home: "/"}}); err == nil || !strings.Contains(err.Error(), "not enabled on this host") {
			t.Errorf("%+v on a host without it: error %v", s, err)
		}
	}
	for _, s := range []Security{{AppArmor: "unconfined"}, {Label: []string{"disable"}}} {
		c.Security = s
		if _, err := BuildSpec(c, SpecInput{Rootfs: "/r/rootfs", User: Identity{Home: "/"}}); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

func TestParseDeviceRule(t *testing.T) {
	for _, bad := range []string{"c 1:3", "x 1:3 r", "c 1 r", "c a:3 r", "c 1:3 rx"} {
		if _, err := parseDeviceRule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestApplyNamespaces(t *testing.T) {
	s := Security{IpcMode: "container:db", PidMode: "host", UtsHost: true, ShmSize: 1 << 20, OomScoreAdj: 500,
		Sysctls: map[string]string{"net.core.somaxconn": "1024"}, Rlimits: []Rlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 20}}}
	sp := securedSpec(t, s, hostFacts{IpcNS: "/proc/42/ns/ipc"})
	ns := map[specs.LinuxNamespaceType]string{}
	for _, n := range sp.Linux.Namespaces {
		ns[n.Type] = n.Path
	}
	if p, ok := ns[specs.IPCNamespace]; !ok || p != "/proc/42/ns/ipc" {
		t.Errorf("ipc namespace %q, want /proc/42/ns/ipc", p)
	}
	if _, ok := ns[specs.PIDNamespace]; ok {
		t.Error("pid: host kept a pid namespace")
	}
	if _, ok := ns[specs.UTSNamespace]; ok || sp.Hostname != "" {
		t.Errorf("uts: host kept a UTS namespace or hostname %q", sp.Hostname)
	}
	for _, m := range sp.Mounts {
		if m.Destination == "/dev/shm" && !slices.Contains(m.Options, "size=1048576") {
			t.Errorf("/dev/shm options %q", m.Options)
		}
	}
	if *sp.Process.OOMScoreAdj != 500 || sp.Linux.Sysctl["net.core.somaxconn"] != "1024" ||
		!slices.Equal(sp.Process.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 20}}) {
		t.Errorf("oom %v sysctl %v rlimits %v", *sp.Process.OOMScoreAdj, sp.Linux.Sysctl, sp.Process.Rlimits)
	}
	// Shareable, or joining a shareable one: the host's tmpfs is bound.
	for _, s := range []Security{{IpcMode: IpcShareable, ShmSize: 1 << 20}, {IpcMode: "container:db"}} {
		shared := securedSpec(t, s, hostFacts{ShmPath: "/run/berth/shm/db"})
		var shm []specs.Mount
		for _, m := range shared.Mounts {
			if m.Destination == "/dev/shm" {
				shm = append(shm, m)
			}
		}
		if len(shm) != 1 || shm[0].Type != "bind" || shm[0].Source != "/run/berth/shm/db" || !slices.Contains(shm[0].Options, "nodev") {
			t.Errorf("%s: /dev/shm is %+v, want the host's tmpfs bound once", s.IpcMode, shm)
		}
	}
	// ipc: host, or joining a container whose ipc is host: the host's
	// namespace and /dev/shm, as in Docker.
	for _, c := range []struct {
		s Security
		h hostFacts
	}{{Security{IpcMode: "host"}, hostFacts{}}, {Security{IpcMode: "container:db"}, hostFacts{IpcHost: true}}} {
		host := securedSpec(t, c.s, c.h)
		for _, ns := range host.Linux.Namespaces {
			if ns.Type == specs.IPCNamespace {
				t.Errorf("%s (host ipc %v): an ipc namespace %+v", c.s.IpcMode, c.h.IpcHost, ns)
			}
		}
		for _, m := range host.Mounts {
			if m.Destination == "/dev/shm" && (m.Type != "bind" || m.Source != "/dev/shm") {
				t.Errorf("%s (host ipc %v): /dev/shm is %+v, want the host's bound", c.s.IpcMode, c.h.IpcHost, m)
			}
		}
	}
}

func TestProcessRlimits(t *testing.T) {
	got, err := processRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}})
	if err != nil || len(got) != 1 || got[0].Type != 7 || got[0].Soft != 1 || got[0].Hard != 2 {
		t.Errorf("processRlimits = %+v, %v", got, err)
	}
	if _, err := processRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_WINGS"}}); err == nil {
		t.Error("an unknown rlimit was accepted")
	}
}

func TestWithoutX32(t *testing.T) {
	in := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	if got := withoutX32(in); !slices.Equal(got, []specs.Arch{specs.ArchX86_64, specs.ArchX86}) || len(in) != 3 {
		t.Errorf("withoutX32 = %v (input now %v)", got, in)
	}
}

func TestShareableIsAnIpcModeOnly(t *testing.T) {
	var probs []string
	add := func(f string, a ...any) { probs = append(probs, fmt.Sprintf(f, a...)) }
	Security{IpcMode: IpcShareable}.validate(add)
	if len(probs) != 0 {
		t.Errorf("ipc shareable refused: %v", probs)
	}
	Security{PidMode: IpcShareable}.validate(add)
	if len(probs) != 1 {
		t.Errorf("pid shareable accepted: %v", probs)
	}
}
