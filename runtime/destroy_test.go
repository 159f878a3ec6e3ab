package runtime

import (
	"maps"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
)

// A container with its own PID namespace and nothing else to undo is
// destroyed lean, by its cgroup paths; hooks, a shared PID namespace,
// systemd cgroups or an Intel RDT group send the destroy through
// libcontainer.
func TestLeanOf(t *testing.T) {
	paths := map[string]string{"memory": "/sys/fs/cgroup/memory/b/c", "": "/sys/fs/cgroup/unified/b/c"}
	cases := map[string]struct {
		edit func(*libcontainer.State)
		lean bool
	}{
		"own pid namespace": {func(*libcontainer.State) {}, true},
		"no pid namespace":  {func(st *libcontainer.State) { st.Config.Namespaces = configs.Namespaces{{Type: configs.NEWNS}} }, false},
		"joined pid namespace": {func(st *libcontainer.State) {
			st.Config.Namespaces = configs.Namespaces{{Type: configs.NEWPID, Path: "/proc/1/ns/pid"}}
		}, false},
		"poststop hook": {func(st *libcontainer.State) {
			st.Config.Hooks = configs.Hooks{configs.Poststop: configs.HookList{configs.NewCommandHook(&configs.Command{Path: "/bin/true"})}}
		}, false},
		"systemd cgroups": {func(st *libcontainer.State) { st.Config.Cgroups = &cgroups.Cgroup{Systemd: true} }, false},
		"intel rdt":       {func(st *libcontainer.State) { st.Config.IntelRdt = &configs.IntelRdt{ClosID: "x"} }, false},
		"no cgroups":      {func(st *libcontainer.State) { st.CgroupPaths = nil }, false},
	}
	for name, c := range cases {
		var st libcontainer.State
		st.Config = configs.Config{Namespaces: configs.Namespaces{{Type: configs.NEWNS}, {Type: configs.NEWPID}}, Cgroups: &cgroups.Cgroup{}}
		st.CgroupPaths = maps.Clone(paths)
		c.edit(&st)
		got := leanOf(&st)
		if c.lean && !maps.Equal(got, paths) || !c.lean && got != nil {
			t.Errorf("%s: leanOf = %v, want lean %v", name, got, c.lean)
		}
	}
}
