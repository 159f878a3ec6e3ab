package runtime

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A container's start waits for an RCU grace period it need not.
//
// Every move of a process between cgroups (a write to a cgroup.procs
// file) takes the write side of the kernel's global
// cgroup_threadgroup_rwsem, and a writer that finds no other writer in
// the last grace period waits for a full one (rcu_sync_enter): 6–10 ms
// on this kind of host, with cgroup_mutex held. libcontainer's move of a
// container's init into its cgroups pays it, mid-start, on the path of
// every start that follows a quiet moment (a recreate, `start`, `up` of
// a few services). primeAttach starts that grace period earlier: when
// the shim is spawned, a write that moves nothing (this process into the
// cgroup it is already in) takes the rwsem's write side in the
// background, so that the grace period runs while the shim starts and
// the init's move, a few milliseconds later, finds the rwsem's fast path
// (it stays on it for a grace period after its last writer).
//
// It is only a speed-up: a host where the write is refused, or where
// the process's cgroup cannot be found, starts containers as before.

// PrimeAttach is primeAttach for a caller that knows a container's
// start is coming (the engine, when it begins to create one): the
// earlier the grace period starts, the less of it the start waits for.
func PrimeAttach() { primeAttach() }

// primeAttach writes this process's pid, in the background, to the
// cgroup.procs file of the cgroup it is in (see above).
func primeAttach() { go func() { _ = primeNow() }() }

// primeNow is the primer's write. It finds this process's cgroup anew
// each time (a few microseconds): a long-lived process (`reconcile
// --watch`) may have been moved since its last one, and a write to the
// cgroup it was in then would move it back.
func primeNow() error {
	mount, path := ownCgroup("/proc/self/cgroup", "/sys/fs/cgroup")
	if mount == "" {
		return os.ErrNotExist
	}
	return writeOwnPid(filepath.Join(mount, path, "cgroup.procs"))
}

// writeOwnPid writes this process's pid to the cgroup.procs file at
// path: the process stays where it is when path is its own cgroup's.
func writeOwnPid(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strconv.Itoa(os.Getpid()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ownCgroup finds a hierarchy this process is in (from selfCgroup,
// /proc/self/cgroup's format) and mounted under root: the unified one
// (mounted at root, or at root/unified beside v1 hierarchies) first,
// else the first v1 one whose directory for the process exists. It
// returns the hierarchy's mount and the process's cgroup in it; "" and
// "" when none is found.
func ownCgroup(selfCgroup, root string) (mount, path string) {
	data, err := os.ReadFile(selfCgroup)
	if err != nil {
		return "", ""
	}
	type place struct{ mount, path string }
	var v2, v1 []place
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = append(v2, place{root, parts[2]}, place{filepath.Join(root, "unified"), parts[2]})
			continue
		}
		// A v1 hierarchy is mounted at root/<its controllers> (or a
		// link to it: cpu,cpuacct), or root/<name> for name=<name>.
		ctrls := strings.Split(parts[1], ",")
		for i, c := range ctrls {
			ctrls[i] = strings.TrimPrefix(c, "name=")
		}
		for _, d := range append([]string{strings.Join(ctrls, ",")}, ctrls...) {
			v1 = append(v1, place{filepath.Join(root, d), parts[2]})
		}
	}
	for _, c := range append(v2, v1...) {
		if st, err := os.Stat(filepath.Join(c.mount, c.path, "cgroup.procs")); err == nil && st.Mode().IsRegular() {
			return c.mount, c.path
		}
	}
	return "", ""
}
