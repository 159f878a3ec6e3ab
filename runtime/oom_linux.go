package runtime

import (
	"github.com/opencontainers/cgroups/fscommon"
	"github.com/opencontainers/runc/libcontainer"
)

// oomKilled reports whether the kernel's OOM killer killed a process of
// this run of ctr (its cgroup is new with each run): Docker's
// State.OOMKilled. It reads the memory controller's oom_kill count, from
// memory.events (cgroup v2) or memory.oom_control (v1).
func oomKilled(ctr *libcontainer.Container) bool {
	st, err := ctr.State()
	if err != nil {
		return false
	}
	// v1 first: on a hybrid host "" is the cgroup v2 hierarchy without
	// controllers.
	dir, file := st.CgroupPaths["memory"], "memory.oom_control"
	if dir == "" {
		dir, file = st.CgroupPaths[""], "memory.events"
	}
	if dir == "" {
		return false
	}
	n, err := fscommon.GetValueByKey(dir, file, "oom_kill")
	return err == nil && n > 0
}
