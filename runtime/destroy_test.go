package runtime

import (
	"encoding/json"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
)

// destroyLean reads libcontainer's own state.json: a container with its
// own PID namespace and nothing else to undo is simple; hooks, a shared
// PID namespace, systemd cgroups or an Intel RDT group send the destroy
// through libcontainer.
func TestLeanStateSimple(t *testing.T) {
	base := func() libcontainer.State {
		var st libcontainer.State
		st.Config = configs.Config{Namespaces: configs.Namespaces{{Type: configs.NEWNS}, {Type: configs.NEWPID}}}
		st.CgroupPaths = map[string]string{"memory": "/sys/fs/cgroup/memory/b/c"}
		return st
	}
	cases := map[string]struct {
		edit func(*libcontainer.State)
		want bool
	}{
		"own pid namespace": {func(*libcontainer.State) {}, true},
		"no pid namespace":  {func(st *libcontainer.State) { st.Config.Namespaces = configs.Namespaces{{Type: configs.NEWNS}} }, false},
		"joined pid namespace": {func(st *libcontainer.State) {
			st.Config.Namespaces = configs.Namespaces{{Type: configs.NEWPID, Path: "/proc/1/ns/pid"}}
		}, false},
		"poststop hook": {func(st *libcontainer.State) {
			st.Config.Hooks = configs.Hooks{configs.Poststop: configs.HookList{configs.NewCommandHook(&configs.Command{Path: "/bin/true"})}}
		}, false},
		"systemd cgroups": {func(st *libcontainer.State) {
			st.Config.Cgroups = &cgroups.Cgroup{Systemd: true}
		}, false},
		"intel rdt": {func(st *libcontainer.State) { st.Config.IntelRdt = &configs.IntelRdt{ClosID: "x"} }, false},
	}
	for name, c := range cases {
		st := base()
		c.edit(&st)
		data, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var lean leanState
		if err := json.Unmarshal(data, &lean); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := lean.simple(); got != c.want {
			t.Errorf("%s: simple() = %v, want %v", name, got, c.want)
		}
		if lean.CgroupPaths["memory"] != "/sys/fs/cgroup/memory/b/c" {
			t.Errorf("%s: cgroup paths %v", name, lean.CgroupPaths)
		}
	}
}
