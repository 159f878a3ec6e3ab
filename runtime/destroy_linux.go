package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fscommon"
)

// A re-executed shim holds no libcontainer container: loading one decodes
// the whole state.json (the configuration with its seccomp rules) and
// builds the decoders of all its types, milliseconds of CPU per container
// at the moment a `down` stops them all (issue 15). What destroying a
// stopped container takes is a small part of it.

// leanState is the part of libcontainer's state.json that destroying a
// stopped container needs.
type leanState struct {
	Config struct {
		Namespaces []struct {
			Type string `json:"type"`
			Path string `json:"path"`
		} `json:"namespaces"`
		Hooks    json.RawMessage `json:"Hooks"`
		IntelRdt json.RawMessage `json:"intel_rdt"`
		Cgroups  struct {
			Systemd bool `json:"Systemd"`
		} `json:"cgroups"`
	} `json:"config"`
	CgroupPaths  map[string]string `json:"cgroup_paths"`
	IntelRdtPath string            `json:"intel_rdt_path"`
}

// simple says whether libcontainer's destroy of the container comes down
// to removing its cgroups and state directory: it has its own PID
// namespace (no process of it outlives its init), no hooks, no Intel RDT
// group, and cgroups berth manages through the filesystem.
func (st *leanState) simple() bool {
	private := false
	for _, ns := range st.Config.Namespaces {
		if ns.Type == "NEWPID" {
			private = ns.Path == ""
		}
	}
	empty := func(m json.RawMessage) bool { s := string(m); return s == "" || s == "null" || s == "{}" }
	return private && empty(st.Config.Hooks) && empty(st.Config.IntelRdt) && st.IntelRdtPath == "" && !st.Config.Cgroups.Systemd
}

// destroyLean destroys stopped container id under stateRoot as
// libcontainer's Destroy does (its cgroups, then its state directory)
// without loading it, when that is all the destroy does; done says
// whether it was, and oom whether the kernel's OOM killer killed in its
// memory cgroup. When not done, nothing was changed.
func destroyLean(stateRoot, id string) (oom, done bool, err error) {
	dir := filepath.Join(stateRoot, id)
	data, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return false, false, nil
	}
	var st leanState
	if json.Unmarshal(data, &st) != nil || !st.simple() {
		return false, false, nil
	}
	oom = oomKilledIn(st.CgroupPaths)
	if err := cgroups.RemovePaths(st.CgroupPaths); err != nil {
		return oom, true, fmt.Errorf("unable to destroy container: unable to remove container's cgroup: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return oom, true, fmt.Errorf("unable to destroy container: unable to remove container state dir: %w", err)
	}
	return oom, true, nil
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
