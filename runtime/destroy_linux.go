package runtime

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fscommon"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
)

// A re-executed shim holds no libcontainer container: loading one decodes
// the whole state.json (the configuration with its seccomp rules) and
// builds the decoders of all its types, milliseconds of CPU per container
// at the moment a `down` stops them all (issue 15). Destroying a stopped
// container mostly takes far less: the shim that started it hands the
// re-executed one its cgroup paths (leanOf), and the destroy is then
// libcontainer's without the load (destroyLean).

// leanOf is what destroying container st once stopped takes when that is
// only removing its cgroups and its state directory: it has its own PID
// namespace (no process of it outlives its init), no hooks, no Intel RDT
// group, and cgroups managed through the filesystem. Otherwise nil.
func leanOf(st *libcontainer.State) map[string]string {
	c := st.Config
	if !c.Namespaces.IsPrivate(configs.NEWPID) || len(c.Hooks) > 0 || c.IntelRdt != nil || st.IntelRdtPath != "" ||
		(c.Cgroups != nil && c.Cgroups.Systemd) || len(st.CgroupPaths) == 0 {
		return nil
	}
	return st.CgroupPaths
}

// destroyLean destroys stopped container id under stateRoot as
// libcontainer's Destroy does when leanOf gave its cgroup paths: its
// cgroups, then its state directory. oom says whether the kernel's OOM
// killer killed in its memory cgroup.
func destroyLean(stateRoot, id string, paths map[string]string) (oom bool, err error) {
	oom = oomKilledIn(paths)
	if err := cgroups.RemovePaths(paths); err != nil {
		return oom, fmt.Errorf("unable to destroy container: unable to remove container's cgroup: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(stateRoot, id)); err != nil {
		return oom, fmt.Errorf("unable to destroy container: unable to remove container state dir: %w", err)
	}
	return oom, nil
}

// oomKilledIn says whether the kernel's OOM killer killed a process in
// the memory cgroup among paths (libcontainer's state's cgroup paths).
func oomKilledIn(paths map[string]string) bool {
	// v1 first: on a hybrid host "" is the cgroup v2 hierarchy without
	// controllers.
	dir, file := paths["memory"], "memory.oom_control"
	if dir == "" {
		dir, file = paths[""], "memory.events"
	}
	if dir == "" {
		return false
	}
	n, err := fscommon.GetValueByKey(dir, file, "oom_kill")
	return err == nil && n > 0
}
