package runtime

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
app:x:1000:1000::/home/app:/bin/sh
`

const testGroup = `root:x:0:
staff:x:50:app
nogroup:x:65534:
app:x:1000:
`

func TestResolveUser(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Identity
	}{
		{"", Identity{UID: 0, GID: 0, Home: "/root", AdditionalGIDs: []int{}}},
		{"nobody", Identity{UID: 65534, GID: 65534, Home: "/nonexistent", AdditionalGIDs: []int{}}},
		{"app", Identity{UID: 1000, GID: 1000, Home: "/home/app", AdditionalGIDs: []int{50}}},
		{"1000", Identity{UID: 1000, GID: 1000, Home: "/home/app", AdditionalGIDs: []int{50}}},
		{"1000:50", Identity{UID: 1000, GID: 50, Home: "/home/app", AdditionalGIDs: []int{}}},
		{"app:nogroup", Identity{UID: 1000, GID: 65534, Home: "/home/app", AdditionalGIDs: []int{}}},
		{"4242", Identity{UID: 4242, GID: 0, Home: "/", AdditionalGIDs: []int{}}},
	} {
		got, err := ResolveUser(tc.spec, strings.NewReader(testPasswd), strings.NewReader(testGroup))
		if err != nil {
			t.Errorf("ResolveUser(%q): %v", tc.spec, err)
			continue
		}
		if got.UID != tc.want.UID || got.GID != tc.want.GID || got.Home != tc.want.Home || !slices.Equal(got.AdditionalGIDs, tc.want.AdditionalGIDs) {
			t.Errorf("ResolveUser(%q) = %+v, want %+v", tc.spec, got, tc.want)
		}
	}
	if _, err := ResolveUser("ghost", strings.NewReader(testPasswd), strings.NewReader(testGroup)); err == nil {
		t.Error("an unknown user name resolved")
	}
	// No passwd file at all: numeric ids still work, names do not.
	if got, err := ResolveUser("7:8", nil, nil); err != nil || got.UID != 7 || got.GID != 8 || got.Home != "/" {
		t.Errorf("numeric user without passwd = %+v, %v", got, err)
	}
	if _, err := ResolveUser("app", nil, nil); err == nil {
		t.Error("a user name resolved without a passwd file")
	}
}

func TestProcessEnv(t *testing.T) {
	got := processEnv([]string{"FOO=1"}, "web", "/home/app")
	want := []string{defaultPath, "HOSTNAME=web", "FOO=1", "HOME=/home/app"}
	if !slices.Equal(got, want) {
		t.Errorf("processEnv = %q, want %q", got, want)
	}
	own := []string{"PATH=/x", "HOSTNAME=mine", "HOME=/h"}
	if got := processEnv(own, "web", "/home/app"); !slices.Equal(got, own) {
		t.Errorf("processEnv kept %q as %q", own, got)
	}
}

func baseConfig() Config {
	return Config{ID: "proj-web-1", Layers: []string{"/l/0", "/l/1"}, Args: []string{"/bin/true"}}
}

func buildSpec(t *testing.T, c Config) *specs.Spec {
	t.Helper()
	s, err := BuildSpec(c, SpecInput{Rootfs: "/r/rootfs", CgroupParent: "berth", User: Identity{Home: "/root"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildSpecDefaults(t *testing.T) {
	c := baseConfig()
	c.Hostname = "web"
	c.Domainname = "example.test"
	c.Labels = map[string]string{"com.docker.compose.project": "proj"}
	s := buildSpec(t, c)
	if s.Hostname != "web" || s.Domainname != "example.test" {
		t.Errorf("uts names = %q %q", s.Hostname, s.Domainname)
	}
	if s.Root.Path != "/r/rootfs" || s.Root.Readonly {
		t.Errorf("root = %+v", s.Root)
	}
	if s.Process.Cwd != "/" || s.Process.User.UID != 0 || !slices.Contains(s.Process.Env, "HOME=/root") {
		t.Errorf("process = %+v", s.Process)
	}
	if s.Linux.CgroupsPath != "/berth/proj-web-1" {
		t.Errorf("cgroups path = %q", s.Linux.CgroupsPath)
	}
	caps := s.Process.Capabilities
	if len(caps.Bounding) != 14 || !slices.Contains(caps.Bounding, "CAP_NET_BIND_SERVICE") || slices.Contains(caps.Bounding, "CAP_SYS_ADMIN") ||
		!slices.Equal(caps.Bounding, caps.Effective) || len(caps.Inheritable) != 0 || len(caps.Ambient) != 0 {
		t.Errorf("capabilities = %+v", caps)
	}
	if !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("masked %q readonly %q", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	if want := []string{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"}; !slices.Equal(dests, want) {
		t.Errorf("mounts = %q, want %q", dests, want)
	}
	if s.Process.Rlimits != nil {
		t.Errorf("rlimits = %+v, want none", s.Process.Rlimits)
	}
	if d := s.Linux.Resources.Devices; len(d) != 1 || d[0].Allow || d[0].Access != "rwm" {
		t.Errorf("device rules = %+v, want deny all (libcontainer appends the defaults)", d)
	}
	if s.Annotations["com.docker.compose.project"] != "proj" {
		t.Errorf("annotations = %v", s.Annotations)
	}
}

func TestBuildSpecNamespaces(t *testing.T) {
	for _, tc := range []struct {
		netns    string
		wantNet  bool
		wantPath string
	}{
		{"", true, ""},
		{"host", false, ""},
		{"/run/berth/netns/proj_default-web", true, "/run/berth/netns/proj_default-web"},
	} {
		c := baseConfig()
		c.NetNS = tc.netns
		s := buildSpec(t, c)
		var types []specs.LinuxNamespaceType
		var net *specs.LinuxNamespace
		for i, ns := range s.Linux.Namespaces {
			types = append(types, ns.Type)
			if ns.Type == specs.NetworkNamespace {
				net = &s.Linux.Namespaces[i]
			}
			if ns.Type != specs.NetworkNamespace && ns.Path != "" {
				t.Errorf("netns %q: %s namespace joins %q", tc.netns, ns.Type, ns.Path)
			}
		}
		for _, want := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.MountNamespace, specs.UTSNamespace, specs.IPCNamespace} {
			if !slices.Contains(types, want) {
				t.Errorf("netns %q: no %s namespace", tc.netns, want)
			}
		}
		if (net != nil) != tc.wantNet || (net != nil && net.Path != tc.wantPath) {
			t.Errorf("netns %q: network namespace = %+v", tc.netns, net)
		}
	}
}

func TestBuildSpecMounts(t *testing.T) {
	c := baseConfig()
	c.ReadOnlyRootfs = true
	c.Mounts = []Mount{
		{Type: "bind", Source: "/srv/data/sub", Target: "/data/sub"},
		{Type: "bind", Source: "/srv/data", Target: "/data/", ReadOnly: true},
		{Type: "tmpfs", Target: "/dev/shm", Options: []string{"size=1g", "exec"}},
	}
	s := buildSpec(t, c)
	if !s.Root.Readonly {
		t.Error("rootfs not read-only")
	}
	var got []string
	for _, m := range s.Mounts {
		got = append(got, m.Destination+" "+m.Type+" "+m.Source+" "+strings.Join(m.Options, ","))
	}
	want := []string{
		"/proc proc proc nosuid,noexec,nodev",
		"/dev tmpfs tmpfs nosuid,strictatime,mode=755,size=65536k",
		"/dev/pts devpts devpts nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
		"/sys sysfs sysfs nosuid,noexec,nodev,ro",
		"/sys/fs/cgroup cgroup cgroup ro,nosuid,noexec,nodev",
		"/dev/mqueue mqueue mqueue nosuid,noexec,nodev",
		// Parents before children; the user's /dev/shm replaces the default.
		"/data bind /srv/data rbind,rprivate,ro",
		"/data/sub bind /srv/data/sub rbind,rprivate",
		"/dev/shm tmpfs tmpfs nosuid,nodev,noexec,size=1g,exec",
	}
	if !slices.Equal(got, want) {
		t.Errorf("mounts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBuildSpecUserAndCwd(t *testing.T) {
	c := baseConfig()
	c.Cwd = "/app"
	c.Env = []string{"PATH=/bin", "HOME=/custom"}
	s, err := BuildSpec(c, SpecInput{Rootfs: "/r", CgroupParent: "p", User: Identity{UID: 1000, GID: 50, AdditionalGIDs: []int{7}, Home: "/home/app"}})
	if err != nil {
		t.Fatal(err)
	}
	u := s.Process.User
	if u.UID != 1000 || u.GID != 50 || !slices.Equal(u.AdditionalGids, []uint32{7}) || s.Process.Cwd != "/app" {
		t.Errorf("process = %+v", s.Process)
	}
	if slices.Contains(s.Process.Env, "HOME=/home/app") || !slices.Contains(s.Process.Env, "HOME=/custom") {
		t.Errorf("env = %q: the caller's HOME must win", s.Process.Env)
	}
	if _, err := BuildSpec(c, SpecInput{Rootfs: "relative"}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("relative rootfs: %v", err)
	}
}

func TestValidate(t *testing.T) {
	if err := baseConfig().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	bad := Config{
		ID:          "a/b",
		Layers:      []string{"rel", "/with:colon"},
		Cwd:         "x",
		NetNS:       "ns",
		Mounts:      []Mount{{Type: "volume", Target: "rel"}, {Type: "bind", Source: "rel", Target: "/x"}},
		StopSignal:  "SIGNOPE",
		StopTimeout: -time.Second,
		Restart:     "sometimes",
	}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Validate = %v, want ErrInvalidConfig", err)
	}
	for _, field := range []string{"id:", "layers[0]", "layers[1]", "args:", "cwd:", "netns:", "mounts[0].target", "mounts[0].type", "mounts[1].source", "stop_signal", "stop_timeout", "restart:"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("Validate does not report %s: %v", field, err)
		}
	}
}

func TestRootfsMount(t *testing.T) {
	m, err := rootfsMount([]string{"/l/bottom", "/l/mid", "/l/top"}, "/c/upper", "/c/work", "/c/rootfs")
	if err != nil {
		t.Fatal(err)
	}
	if want := "lowerdir=/l/top:/l/mid:/l/bottom,upperdir=/c/upper,workdir=/c/work,index=off"; m.Data != want || m.Target != "/c/rootfs" {
		t.Errorf("mount = %+v, want data %q", m, want)
	}
	many := make([]string, 200)
	for i := range many {
		many[i] = "/var/lib/berth/image/snapshots/" + strings.Repeat("a", 20)
	}
	if _, err := rootfsMount(many, "/u", "/w", "/t"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("too many layers: %v", err)
	}
}
