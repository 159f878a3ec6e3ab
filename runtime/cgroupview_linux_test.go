package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestCgroupViewSameAsLibcontainers runs a container with the cgroup
// view the shim prepares and one with libcontainer's own /sys/fs/cgroup
// (BERTH_CGROUP_VIEW=off): inside, the mount table, the tree under
// /sys/fs/cgroup and the process's cgroups are the same, and the view
// was used (the init bound it: libcontainer's configuration has no cgroup
// mount) without showing on the host.
func TestCgroupViewSameAsLibcontainers(t *testing.T) {
	e := newTestEnv(t)
	const script = `cat /proc/self/mountinfo; stat -c '%n %a %F %u' /sys/fs/cgroup /sys/fs/cgroup/*; ` +
		`cat /proc/self/cgroup; echo END; exec sleep 1000`
	offID, off, onID, on := e.eachWay(t, cgroupViewEnv, script, func(*Config) {})
	if got, want := normalizeView(on, onID), normalizeView(off, offID); !slices.Equal(got, want) {
		t.Errorf("the container's view with the prepared cgroup tree differs from libcontainer's:\n%s\nwant:\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if cgroups.IsCgroup2UnifiedMode() {
		return // the view is for v1 hierarchies only
	}
	for id, wantBind := range map[string]bool{onID: true, offID: false} {
		if got := cgroupMountIsBind(t, filepath.Join(e.run, "runc", id, "state.json")); got != wantBind {
			t.Errorf("container %s: /sys/fs/cgroup mounted as a bind of the view: %v, want %v", id, got, wantBind)
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	if strings.Contains(string(mi), cgroupViewDir) {
		t.Errorf("a cgroup view shows on the host:\n%s", mi)
	}
}

// cgroupMountIsBind reports whether the libcontainer state at statePath
// mounts /sys/fs/cgroup as a bind of a prepared view.
func cgroupMountIsBind(t *testing.T, statePath string) bool {
	t.Helper()
	for _, m := range stateMounts(t, statePath) {
		if m.Destination == "/sys/fs/cgroup" {
			return m.Device == "bind" && filepath.Base(m.Source) == cgroupViewDir
		}
	}
	t.Fatalf("%s has no /sys/fs/cgroup mount", statePath)
	return false
}

// normalizeView is a container's output with what differs between two
// containers of the same configuration taken out: its name, and in the
// mount table each mount's ID (its parent named by its mount point) and
// the numbers of anonymous devices (named by their order of appearance).
func normalizeView(lines []string, id string) []string {
	mountpoints := map[string]string{}
	for _, l := range lines {
		if f := strings.Fields(strings.TrimPrefix(l, "stdout: ")); len(f) > 6 && strings.Contains(l, " - ") {
			mountpoints[f[0]] = f[4]
		}
	}
	anon := map[string]string{}
	var out []string
	for _, l := range lines {
		l = strings.ReplaceAll(l, id, "ID")
		f := strings.Fields(strings.TrimPrefix(l, "stdout: "))
		if len(f) > 6 && strings.Contains(l, " - ") {
			if _, ok := anon[f[2]]; !ok && strings.HasPrefix(f[2], "0:") {
				anon[f[2]] = fmt.Sprintf("anon%d", len(anon))
			}
			if a, ok := anon[f[2]]; ok {
				f[2] = a
			}
			f[0], f[1] = "", "parent="+mountpoints[f[1]]
			l = strings.Join(f[1:], " ")
		}
		out = append(out, l)
	}
	return out
}

func TestPlanCgroupView(t *testing.T) {
	spec := func(opts []string, ns ...specs.LinuxNamespaceType) *specs.Spec {
		sp := &specs.Spec{
			Mounts: []specs.Mount{
				{Destination: "/sys", Type: "sysfs"},
				{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: opts},
			},
			Linux: &specs.Linux{CgroupsPath: "/berth/c1"},
		}
		for _, n := range ns {
			sp.Linux.Namespaces = append(sp.Linux.Namespaces, specs.LinuxNamespace{Type: n})
		}
		return sp
	}
	host := []cgroups.Mount{
		{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Subsystems: []string{"cpu", "cpuacct"}},
		{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Subsystems: []string{"memory"}},
		{Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", Subsystems: []string{"systemd"}},
	}
	ro := []string{"ro", "nosuid", "noexec", "nodev"}
	v := planCgroupView(spec(ro), host, "/c/cgroupfs")
	want := &cgroupView{
		dir:   "/c/cgroupfs",
		flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV,
		binds: []cgroupBind{
			{name: "cpu,cpuacct", source: "/sys/fs/cgroup/cpu,cpuacct/berth/c1"},
			{name: "memory", source: "/sys/fs/cgroup/memory/berth/c1"},
			{name: "systemd", source: "/sys/fs/cgroup/systemd/berth/c1"},
		},
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("plan = %+v, want %+v", v, want)
	}
	if v := planCgroupView(spec([]string{"nosuid", "noexec", "nodev"}), host, "/c/cgroupfs"); v == nil || v.flags&unix.MS_RDONLY != 0 {
		t.Errorf("privileged (no ro): plan = %+v, want writable binds", v)
	}
	sp := withCgroupView(spec(ro), want)
	if m := sp.Mounts[1]; m.Type != "bind" || m.Source != "/c/cgroupfs" || !slices.Equal(m.Options, []string{"rbind"}) {
		t.Errorf("spec mount = %+v, want a recursive bind of the view", m)
	}
	if orig := spec(ro); cgroupMountIndex(orig) != 1 || orig.Mounts[1].Type != "cgroup" {
		t.Fatal("spec helper")
	}

	// Left to libcontainer.
	labelled := spec(ro)
	labelled.Linux.MountLabel = "system_u:object_r:container_file_t:s0"
	relative := spec(ro)
	relative.Linux.CgroupsPath = "berth/c1"
	for name, c := range map[string]struct {
		sp     *specs.Spec
		mounts []cgroups.Mount
	}{
		"cgroup namespace": {spec(ro, specs.CgroupNamespace), host},
		"unknown option":   {spec(append(slices.Clone(ro), "relatime")), host},
		"mount label":      {labelled, host},
		"relative path":    {relative, host},
		"no cgroup mount":  {&specs.Spec{Linux: &specs.Linux{CgroupsPath: "/b/c"}}, host},
		"no hierarchies":   {spec(ro), nil},
		"hierarchy not joined": {spec(ro), append(slices.Clone(host),
			cgroups.Mount{Mountpoint: "/sys/fs/cgroup/elogind", Root: "/", Subsystems: []string{"name=elogind"}})},
	} {
		if v := planCgroupView(c.sp, c.mounts, "/c/cgroupfs"); v != nil {
			t.Errorf("%s: plan = %+v, want none", name, v)
		}
	}
}

// The view's cgroup directories are made with their missing parents, and
// a failed start removes each of them, children first: none is left.
func TestCgroupDirsMadeAndRemovedWhole(t *testing.T) {
	top := t.TempDir()
	deep := filepath.Join(top, "parent", "child", "container")
	made, err := mkdirs(deep)
	must(t, err)
	want := []string{filepath.Join(top, "parent"), filepath.Join(top, "parent", "child"), deep}
	if !slices.Equal(made, want) {
		t.Fatalf("mkdirs made %q, want %q", made, want)
	}
	if again, err := mkdirs(deep); err != nil || len(again) != 0 {
		t.Fatalf("mkdirs of a directory there made %q (%v), want none", again, err)
	}
	removeCgroupDirs(made)
	if _, err := os.Stat(filepath.Join(top, "parent")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a made parent is left after removal: %v", err)
	}
}
