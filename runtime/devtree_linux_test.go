package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// devTreeScript prints what a container sees of its /dev: the mount
// table, each entry's type, mode, owner and device numbers, the order of
// the entries (find lists them in the directories' order), where the links point, and what its standard input is.
const devTreeScript = `cat /proc/self/mountinfo; ` +
	`find /dev -exec stat -c '%n %F %a %u %g %t:%T %N' {} +; ` +
	`m=$(awk '/mnt_id/{print $2}' /proc/self/fdinfo/0); ` +
	`echo "stdin: $(readlink /proc/self/fd/0) $(grep flags /proc/self/fdinfo/0) on $(awk -v m=$m '$1==m{print $5}' /proc/self/mountinfo)"; ` +
	`[ "$(stat -L -c %d:%i /proc/self/fd/0)" = "$(stat -c %d:%i /dev/null)" ] && echo "stdin is /dev/null"; ` +
	`tty; echo END; exec sleep 1000`

// TestDevTreeSameAsLibcontainers runs containers with the /dev the shim
// prepares and with libcontainer's own (BERTH_DEV_TREE=off), in the
// default set-up, with a terminal, with devices of the compose file's
// and a shareable IPC namespace, and privileged: inside, /dev is the same
// (mounts, entries and their order, modes, owners, device numbers, the
// standard input) and the tree was used (libcontainer's configuration
// has no /dev mount), without showing on the host. The mount table is
// compared in the order of its mount points: with the tree, /dev and its
// two mounts come before /proc.
func TestDevTreeSameAsLibcontainers(t *testing.T) {
	e := newTestEnv(t)
	// A device node whose mode has the set-group-ID and sticky bits.
	special := filepath.Join(t.TempDir(), "special")
	must(t, unix.Mknod(special, unix.S_IFCHR|0o660, int(unix.Mkdev(1, 3))))
	must(t, unix.Chmod(special, 0o3660))
	for name, set := range map[string]func(*Config){
		"default": func(*Config) {},
		"tty":     func(c *Config) { c.Tty = true },
		"devices": func(c *Config) {
			c.Security.Devices = []Device{
				{Source: "/dev/zero", Target: "/dev/sub/dir/zero", Permissions: "rwm"},
				{Source: "/dev/full", Target: "/dev/full2", Permissions: "r"},
				{Source: "/dev/null", Target: "/dev/null", Permissions: "rw"},
				{Source: special, Target: "/dev/special", Permissions: "rw"},
			}
			c.Security.IpcMode = IpcShareable
			c.Security.ShmSize = 8 << 20
		},
		"privileged": func(c *Config) { c.Security.Privileged = true },
	} {
		t.Run(name, func(t *testing.T) {
			offID, off, onID, on := e.eachWay(t, devTreeEnv, devTreeScript, set)
			if got, want := normalizeView(sortMountTable(on), onID), normalizeView(sortMountTable(off), offID); !slices.Equal(got, want) {
				t.Errorf("the container's /dev with the prepared tree differs from libcontainer's:\n%s\nwant:\n%s",
					strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for id, wantTree := range map[string]bool{onID: true, offID: false} {
				if got := devTreeUsed(t, filepath.Join(e.run, "runc", id, "state.json")); got != wantTree {
					t.Errorf("container %s: /dev prepared by the shim: %v, want %v", id, got, wantTree)
				}
			}
			mi, err := os.ReadFile("/proc/self/mountinfo")
			must(t, err)
			if strings.Contains(string(mi), devTreeDir) || strings.Contains(string(mi), onID+"/rootfs") {
				t.Errorf("the /dev tree shows on the host:\n%s", mi)
			}
		})
	}
}

// eachWay runs script in a container with the shim's preparation that
// env turns off ("off"), then in one with it on, set changing each
// configuration, and returns each one's ID and output (up to END).
func (e *testEnv) eachWay(t *testing.T, env, script string, set func(*Config)) (offID string, off []string, onID string, on []string) {
	t.Helper()
	run := func(v string) (string, []string) {
		t.Setenv(env, v) // the shim inherits it
		c := e.config(script)
		set(&c)
		e.start(t, c)
		return c.ID, e.waitEND(t, c.ID)
	}
	offID, off = run("off")
	onID, on = run("")
	return offID, off, onID, on
}

// waitEND waits until container id's log has a line END, and returns
// the log.
func (e *testEnv) waitEND(t *testing.T, id string) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		lines := e.logLines(t, id, LogOptions{Tail: -1})
		if slices.ContainsFunc(lines, func(l string) bool { return strings.TrimRight(l, "\r") == "stdout: END" }) {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s never printed END: %q", id, lines)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sortMountTable is a container's output with the mount table's lines
// (those with " - ") sorted by mount point, in the place of the first.
func sortMountTable(lines []string) []string {
	var table, out []string
	first := -1
	for _, l := range lines {
		if strings.Contains(l, " - ") {
			if first < 0 {
				first = len(out)
				out = append(out, "")
			}
			table = append(table, l)
			continue
		}
		out = append(out, l)
	}
	slices.SortFunc(table, func(a, b string) int {
		return strings.Compare(strings.Fields(a)[5], strings.Fields(b)[5]) // "stdout:", ID, parent, device, root, mount point
	})
	if first >= 0 {
		out = slices.Replace(out, first, first+1, table...)
	}
	return out
}

// devTreeUsed reports whether the libcontainer state at statePath has
// no /dev mount: the shim made it.
func devTreeUsed(t *testing.T, statePath string) bool {
	t.Helper()
	return !slices.ContainsFunc(stateMounts(t, statePath), func(m stateMount) bool { return m.Destination == "/dev" })
}

func TestPlanDevTree(t *testing.T) {
	tmpfs := func(dst string) *configs.Mount {
		return &configs.Mount{Source: "tmpfs", Destination: dst, Device: "tmpfs", Flags: unix.MS_NOSUID, Data: "mode=755"}
	}
	pts := &configs.Mount{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance"}
	mq := &configs.Mount{Source: "mqueue", Destination: "/dev/mqueue", Device: "mqueue"}
	proc := &configs.Mount{Source: "proc", Destination: "/proc", Device: "proc"}
	shm := tmpfs("/dev/shm")
	null := &config.Device{Rule: config.Rule{Type: config.CharDevice, Major: 1, Minor: 3}, Path: "/dev/null", FileMode: 0o666}
	ptmx := &config.Device{Rule: config.Rule{Type: config.CharDevice, Major: 5, Minor: 2}, Path: "/dev/ptmx", FileMode: 0o666}
	outside := &config.Device{Rule: config.Rule{Type: config.CharDevice, Major: 1, Minor: 5}, Path: "/zero", FileMode: 0o666}
	cfg := func(mounts []*configs.Mount, devs ...*config.Device) *configs.Config {
		return &configs.Config{
			Mounts:     mounts,
			Devices:    devs,
			Namespaces: configs.Namespaces{{Type: configs.NEWNS}, {Type: configs.NEWPID}},
		}
	}
	c := cfg([]*configs.Mount{proc, tmpfs("/dev"), pts, mq, shm}, null, ptmx, outside)
	tr := planDevTree(c, "/c/devfs")
	if tr == nil {
		t.Fatal("no plan for the default configuration")
	}
	if got := []string{tr.points[0].name, tr.points[1].name, tr.points[2].name}; !slices.Equal(got, []string{"pts", "mqueue", "shm"}) || tr.points[1].mount != nil || tr.points[2].mount != shm {
		t.Errorf("points = %+v, want pts and shm mounted, mqueue's made, in order", tr.points)
	}
	if !slices.Equal(tr.nodes, []*config.Device{null}) {
		t.Errorf("nodes = %v, want /dev/null only", tr.nodes)
	}
	tr.apply(c)
	if !slices.Equal(c.Mounts, []*configs.Mount{proc, mq}) || !slices.Equal(c.Devices, []*config.Device{ptmx, outside}) {
		t.Errorf("left to the init: mounts %v, devices %v; want /proc and /dev/mqueue, /dev/ptmx and /zero", c.Mounts, c.Devices)
	}

	// Left to libcontainer.
	labelled := cfg([]*configs.Mount{tmpfs("/dev")})
	labelled.MountLabel = "system_u:object_r:container_file_t:s0"
	userNS := cfg([]*configs.Mount{tmpfs("/dev")})
	userNS.Namespaces = append(userNS.Namespaces, configs.Namespace{Type: configs.NEWUSER})
	ro := tmpfs("/dev")
	ro.Flags |= unix.MS_RDONLY
	propagated := tmpfs("/dev")
	propagated.PropagationFlags = []int{unix.MS_PRIVATE}
	copyUp := tmpfs("/dev/shm")
	copyUp.Extensions = configs.EXT_COPYUP
	bindDev := &configs.Mount{Source: "/h", Destination: "/dev", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC}
	pipe := &config.Device{Rule: config.Rule{Type: 'u', Major: 1, Minor: 1}, Path: "/dev/u"}
	inPts := &config.Device{Rule: config.Rule{Type: config.CharDevice, Major: 1, Minor: 3}, Path: "/dev/pts/x"}
	for name, c := range map[string]*configs.Config{
		"mount label":          labelled,
		"user namespace":       userNS,
		"no /dev":              cfg([]*configs.Mount{proc}),
		"/dev a bind":          cfg([]*configs.Mount{bindDev}),
		"/dev read-only":       cfg([]*configs.Mount{ro}),
		"/dev propagation":     cfg([]*configs.Mount{propagated}),
		"copy-up shm":          cfg([]*configs.Mount{tmpfs("/dev"), copyUp}),
		"another tmpfs":        cfg([]*configs.Mount{tmpfs("/dev"), tmpfs("/dev/cache")}),
		"nested mount":         cfg([]*configs.Mount{tmpfs("/dev"), mq, tmpfs("/dev/mqueue/x")}),
		"mount before /dev":    cfg([]*configs.Mount{pts, tmpfs("/dev")}),
		"device in a mount":    cfg([]*configs.Mount{tmpfs("/dev"), pts}, inPts),
		"unknown device type":  cfg([]*configs.Mount{tmpfs("/dev")}, pipe),
		"no mount namespace":   {Mounts: []*configs.Mount{tmpfs("/dev")}},
		"idmapped bind in dev": cfg([]*configs.Mount{tmpfs("/dev"), {Source: "/h", Destination: "/dev/x", Device: "bind", IDMapping: &configs.MountIDMapping{}}}),
	} {
		if tr := planDevTree(c, "/c/devfs"); tr != nil {
			t.Errorf("%s: plan = %+v, want none", name, tr)
		}
	}
}

// TestPreBindsSameAsLibcontainers runs containers with binds the shim
// makes and with all of them left to libcontainer (BERTH_PREBINDS=off):
// a file on an existing file, on a missing one, a directory on a missing
// directory, a read-only one and one beneath another bind; the same with
// a bind under a symbolic link of the image; and a tmpfs at the image's
// /var/run, a link to /run, with a bind at /run/sock. Inside, the mounts
// and their targets are the same; the shim made the plain ones only, and
// none where a mount's destination goes through a link.
func TestPreBindsSameAsLibcontainers(t *testing.T) {
	e := newTestEnv(t)
	host := t.TempDir()
	must(t, os.WriteFile(filepath.Join(host, "hosts"), []byte("10.0.0.1 x\n"), 0o644))
	must(t, os.Mkdir(filepath.Join(host, "vol"), 0o755))
	must(t, os.WriteFile(filepath.Join(host, "vol", "f"), []byte("v\n"), 0o600))
	layer := t.TempDir() // the image's top layer: a link out of the way
	must(t, os.Symlink("/tmp", filepath.Join(layer, "lnk")))
	runLayer := t.TempDir() // var/run -> /run
	must(t, os.Mkdir(filepath.Join(runLayer, "run"), 0o755))
	must(t, os.Mkdir(filepath.Join(runLayer, "var"), 0o755))
	must(t, os.Symlink("/run", filepath.Join(runLayer, "var", "run")))
	plain := []Mount{
		{Type: "bind", Source: filepath.Join(host, "hosts"), Target: "/etc/hosts"},
		{Type: "bind", Source: filepath.Join(host, "hosts"), Target: "/etc/new-file"},
		{Type: "bind", Source: filepath.Join(host, "vol"), Target: "/vol"},
		{Type: "bind", Source: filepath.Join(host, "vol"), Target: "/ro", ReadOnly: true},
		{Type: "bind", Source: filepath.Join(host, "vol"), Target: "/nest"},
		{Type: "bind", Source: filepath.Join(host, "hosts"), Target: "/nest/f"},
	}
	const script = `cat /proc/self/mountinfo; ` +
		`for f in /etc/hosts /etc/new-file /tmp/through-link /vol /vol/f /ro /nest /nest/f /run/sock/f /var/run/sock/f; do ` +
		`stat -c '%n %F %a %u %g %s' $f 2>&1; done; cat /etc/hosts; echo END; exec sleep 1000`
	for _, tc := range []struct {
		name   string
		layer  string
		mounts []Mount
		onInit []string // what the init makes with the shim's binds, by depth
	}{
		{"plain", "", plain, []string{"/ro", "/nest", "/nest/f"}},
		{"through a link", layer, append(slices.Clone(plain),
			Mount{Type: "bind", Source: filepath.Join(host, "hosts"), Target: "/lnk/through-link"}), nil},
		{"tmpfs through a link", runLayer, append(slices.Clone(plain),
			Mount{Type: "tmpfs", Target: "/var/run"},
			Mount{Type: "bind", Source: filepath.Join(host, "vol"), Target: "/run/sock"}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offID, off, onID, on := e.eachWay(t, preBindsEnv, script, func(c *Config) {
				if tc.layer != "" {
					c.Layers = append(c.Layers, tc.layer)
				}
				c.Mounts = tc.mounts
			})
			if got, want := normalizeView(sortMountTable(on), onID), normalizeView(sortMountTable(off), offID); !slices.Equal(got, want) {
				t.Errorf("the container's binds made by the shim differ from libcontainer's:\n%s\nwant:\n%s",
					strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			inits := map[string][]string{}
			for _, id := range []string{offID, onID} {
				for _, m := range stateMounts(t, filepath.Join(e.run, "runc", id, "state.json")) {
					d := m.Destination
					if !underAny(d, "/proc", "/sys", "/dev") && d != "/dev" && d != "/proc" && d != "/sys" {
						inits[id] = append(inits[id], d)
					}
				}
			}
			want := tc.onInit
			if want == nil {
				want = inits[offID] // everything left to libcontainer
			}
			if got := inits[onID]; !slices.Equal(got, want) {
				t.Errorf("the init makes %q with the shim's binds, want %q", got, want)
			}
			if len(inits[offID]) != len(tc.mounts) {
				t.Errorf("the init makes %q without the shim's binds, want all %d", inits[offID], len(tc.mounts))
			}
			mi, err := os.ReadFile("/proc/self/mountinfo")
			must(t, err)
			if strings.Contains(string(mi), onID) {
				t.Errorf("a bind shows on the host:\n%s", mi)
			}
		})
	}
}

// stateMount is a mount of a libcontainer state's configuration.
type stateMount struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Device      string `json:"device"`
}

// stateMounts is the mounts in the libcontainer state at statePath: what
// the init makes, in order.
func stateMounts(t *testing.T, statePath string) []stateMount {
	t.Helper()
	b, err := os.ReadFile(statePath)
	must(t, err)
	var st struct {
		Config struct {
			Mounts []stateMount `json:"mounts"`
		} `json:"config"`
	}
	must(t, json.Unmarshal(b, &st))
	return st.Config.Mounts
}

// TestDevTreeOnRestart restarts a container (its second run mounts the
// root filesystem again, in a namespace of one thread): the second run
// sees the same /dev and binds as the first, with the shim's tree used
// again and the first run's copy gone (no mount twice).
func TestDevTreeOnRestart(t *testing.T) {
	e := newTestEnv(t)
	zero := time.Duration(0)
	c := e.config(`cat /proc/self/mountinfo; find /dev -exec stat -c '%n %F %a %u %g %t:%T' {} +; ` +
		`echo RUN; if [ -e /ran ]; then echo END; exec sleep 1000; fi; touch /ran; exit 1`)
	c.Restart, c.RestartDelay = "on-failure:1", &zero
	e.start(t, c)
	lines := e.waitEND(t, c.ID)
	i := slices.Index(lines, "stdout: RUN")
	if i < 0 || len(lines) < 2*(i+1) {
		t.Fatalf("two runs expected: %q", lines)
	}
	// The root filesystem's overlay is mounted by other code on a restart
	// (its options may differ: uuid=on); the rest must not.
	notRoot := func(l string) bool { return strings.Contains(l, " - overlay ") }
	first := slices.DeleteFunc(slices.Clone(lines[:i]), notRoot)
	second := slices.DeleteFunc(slices.Clone(lines[i+1:2*i+1]), notRoot)
	if got, want := normalizeView(second, c.ID), normalizeView(first, c.ID); !slices.Equal(got, want) {
		t.Errorf("the restarted container's /dev differs from its first run's:\n%s\nwant:\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !devTreeUsed(t, filepath.Join(e.run, "runc", c.ID, "state.json")) {
		t.Error("the restart's /dev was made by libcontainer, not the shim")
	}
}
