package runtime

import (
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
	return oomKilledIn(st.CgroupPaths)
}
