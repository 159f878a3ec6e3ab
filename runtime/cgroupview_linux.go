package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A container's /sys/fs/cgroup on a cgroup v1 host without a cgroup
// namespace (Docker's default there) is, as libcontainer makes it, a
// tmpfs with one read-only bind per hierarchy of the container's own
// cgroup in it: ten mounts that the container's init makes one by one,
// each through libcontainer's safe-path checks (about 2 ms of CPU per
// container, issue 15). The shim makes the same tree with plain mount
// calls in the private mount namespace it starts the init from (the
// init's is a copy of it), and the init binds it whole, recursively, at
// /sys/fs/cgroup: the container sees the same mounts, with the same
// roots, options and order (TestCgroupViewSameAsLibcontainers). The shim
// detaches its tree once the init has its root filesystem, and the init's
// copy goes with the host's root at its pivot; nothing shows on the host.
// BERTH_CGROUP_VIEW=off leaves it to libcontainer.

// cgroupViewEnv turns the prepared view off when it is "off".
const cgroupViewEnv = "BERTH_CGROUP_VIEW"

// cgroupViewDir is the view's mount point in a container's directory.
const cgroupViewDir = "cgroupfs"

// joinedSubsystems are the v1 subsystems libcontainer's fs manager moves
// a container's init into (its subsystems list), so that the init's own
// cgroup in each is the container's; "systemd" is the name=systemd
// hierarchy as package cgroups lists it.
var joinedSubsystems = []string{
	"cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb",
	"net_cls", "net_prio", "perf_event", "freezer", "rdma", "systemd", "misc",
}

// cgroupView is the tree of a container's /sys/fs/cgroup, to be made at
// dir.
type cgroupView struct {
	dir   string
	flags uintptr      // of the binds: MS_RDONLY, MS_NOSUID, ...
	binds []cgroupBind // in the host's order of the hierarchies
}

// cgroupBind is one hierarchy of a view: the container's cgroup there,
// bound at the hierarchy's name.
type cgroupBind struct {
	name   string // base name of the hierarchy's mount point, e.g. "cpu,cpuacct"
	source string // the container's cgroup directory on the host
}

// cgroupMountFlags are the spec options of a cgroup mount the view
// reproduces; any other option leaves the mount to libcontainer.
var cgroupMountFlags = map[string]uintptr{
	"ro": unix.MS_RDONLY, "nosuid": unix.MS_NOSUID, "noexec": unix.MS_NOEXEC, "nodev": unix.MS_NODEV,
}

// planCgroupView is the view of sp's /sys/fs/cgroup from the host's v1
// hierarchies, or nil when libcontainer should mount it: a cgroup
// namespace, an SELinux mount label, options the view does not know, a
// relative cgroups path, or a hierarchy libcontainer does not join.
// It does no I/O.
func planCgroupView(sp *specs.Spec, mounts []cgroups.Mount, dir string) *cgroupView {
	if sp.Linux == nil || sp.Linux.MountLabel != "" || !filepath.IsAbs(sp.Linux.CgroupsPath) || len(mounts) == 0 {
		return nil
	}
	if slices.ContainsFunc(sp.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.CgroupNamespace }) {
		return nil
	}
	i := cgroupMountIndex(sp)
	if i < 0 {
		return nil
	}
	v := &cgroupView{dir: dir}
	for _, o := range sp.Mounts[i].Options {
		f, ok := cgroupMountFlags[o]
		if !ok {
			return nil
		}
		v.flags |= f
	}
	for _, m := range mounts {
		for _, ss := range m.Subsystems {
			if !slices.Contains(joinedSubsystems, ss) {
				return nil
			}
		}
		v.binds = append(v.binds, cgroupBind{
			name:   filepath.Base(m.Mountpoint),
			source: filepath.Join(m.Mountpoint, sp.Linux.CgroupsPath),
		})
	}
	return v
}

// cgroupMountIndex is the index of sp's cgroup mount at /sys/fs/cgroup,
// -1 without one.
func cgroupMountIndex(sp *specs.Spec) int {
	return slices.IndexFunc(sp.Mounts, func(m specs.Mount) bool {
		return m.Type == "cgroup" && filepath.Clean(m.Destination) == "/sys/fs/cgroup"
	})
}

// withCgroupView is sp with its cgroup mount replaced by a recursive bind
// of the view; sp itself is left as it is.
func withCgroupView(sp *specs.Spec, v *cgroupView) *specs.Spec {
	i := cgroupMountIndex(sp)
	out := *sp
	out.Mounts = slices.Clone(sp.Mounts)
	out.Mounts[i] = specs.Mount{Destination: "/sys/fs/cgroup", Type: "bind", Source: v.dir, Options: []string{"rbind"}}
	return &out
}

// mount makes the view in the calling thread's mount namespace, which
// must be private (see launchMounted): the container's cgroup directories
// (libcontainer's fs manager finds them made), the tmpfs libcontainer
// would make (mode 755, nosuid, nodev, noexec), each hierarchy bound in
// it with the cgroup mount's flags, and a symbolic link per subsystem of
// a joint hierarchy (cpu -> cpu,cpuacct). On error nothing of it is left
// mounted; made reports the cgroup directories it made.
func (v *cgroupView) mount() (made []string, err error) {
	for _, b := range v.binds {
		m, err := mkdirs(b.source)
		made = append(made, m...)
		if err != nil {
			return made, fmt.Errorf("making cgroup %s: %w", b.source, err)
		}
	}
	if err := os.Mkdir(v.dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return made, fmt.Errorf("making %s: %w", v.dir, err)
	}
	const tmpfsFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := unix.Mount("tmpfs", v.dir, "tmpfs", tmpfsFlags, "mode=755"); err != nil {
		return made, fmt.Errorf("mounting the cgroup view at %s: %w", v.dir, err)
	}
	if err := v.fill(); err != nil {
		v.unmount()
		return made, err
	}
	return made, nil
}

// fill binds each hierarchy in the view's tmpfs and links the
// subsystems of joint ones.
func (v *cgroupView) fill() error {
	var joint []string
	for _, b := range v.binds {
		dst := filepath.Join(v.dir, b.name)
		if err := os.Mkdir(dst, 0o755); err != nil {
			return fmt.Errorf("making %s: %w", dst, err)
		}
		if err := unix.Mount(b.source, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("binding %s at %s: %w", b.source, dst, err)
		}
		if v.flags != 0 {
			if err := unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT|v.flags, ""); err != nil {
				return fmt.Errorf("remounting %s: %w", dst, err)
			}
		}
		if strings.Contains(b.name, ",") {
			joint = append(joint, b.name)
		}
	}
	for _, name := range joint {
		for ss := range strings.SplitSeq(name, ",") {
			if err := os.Symlink(name, filepath.Join(v.dir, ss)); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("linking %s: %w", ss, err)
			}
		}
	}
	return nil
}

// unmount detaches the view from the calling thread's namespace (the
// init's copy is its own).
func (v *cgroupView) unmount() {
	if err := unix.Unmount(v.dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		fmt.Fprintf(os.Stderr, "unmounting the cgroup view %s: %v\n", v.dir, err)
	}
}

// prepareCgroupView makes the view of sp's /sys/fs/cgroup in the
// container's directory of p when it applies (planCgroupView; a v1 host;
// not turned off; the calling thread in a namespace where the root
// filesystem is mounted and whose root mount is not shared: never the
// host's but one made private)
// and returns the spec to run with and a function to call once the run
// is launched or failed (failed: the cgroup directories the view made
// are removed, libcontainer having made none). Where the view cannot be
// made, sp runs as it is, libcontainer mounting the tree.
func prepareCgroupView(sp *specs.Spec, p paths) (*specs.Spec, func(failed bool)) {
	none := func(bool) {}
	if os.Getenv(cgroupViewEnv) == "off" || cgroupMountIndex(sp) < 0 || !rootfsMounted(p) || !rootNotShared() || cgroups.IsCgroup2UnifiedMode() {
		return sp, none
	}
	dir := p.dir
	mounts, err := cgroups.GetCgroupMounts(false)
	if err != nil {
		return sp, none
	}
	v := planCgroupView(sp, mounts, filepath.Join(dir, cgroupViewDir))
	if v == nil {
		return sp, none
	}
	made, err := v.mount()
	if err != nil {
		removeCgroupDirs(made)
		fmt.Fprintf(os.Stderr, "cgroup view: %v (libcontainer mounts /sys/fs/cgroup)\n", err)
		return sp, none
	}
	return withCgroupView(sp, v), func(failed bool) {
		v.unmount()
		if failed {
			removeCgroupDirs(made)
		}
	}
}

// mkdirs makes directory dir (0755) and its missing parents, returning
// those it made, parents first.
func mkdirs(dir string) (made []string, err error) {
	err = os.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		return []string{dir}, nil
	case errors.Is(err, os.ErrExist):
		return nil, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	if made, err = mkdirs(filepath.Dir(dir)); err != nil {
		return made, err
	}
	if err := os.Mkdir(dir, 0o755); err == nil {
		made = append(made, dir)
	} else if !errors.Is(err, os.ErrExist) {
		return made, err
	}
	return made, nil
}

// removeCgroupDirs removes the cgroup directories dirs, made in their
// order (parents first: see mkdirs), children first; one already gone or
// in use is left.
func removeCgroupDirs(dirs []string) {
	for _, d := range slices.Backward(dirs) {
		_ = unix.Rmdir(d)
	}
}
