package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/sys/userns"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// A container's bind mounts of files and directories of the host (its
// /etc/hosts, /etc/hostname and /etc/resolv.conf, and its volumes) are
// made by libcontainer in the init, each through its safe-path lookups
// (about 0.25 ms of CPU per mount, issue 15). The shim makes those that
// stand alone (no other mount above or below them, none under /proc,
// /sys or /dev, which the init mounts) with plain calls in its private
// mount namespace before the init starts, the init's namespace being a
// copy of it. The mount point is opened beneath the root filesystem
// without following any symbolic link or crossing a mount; a path the
// image makes a symbolic link, or that the bind would need directories
// made for, is left to libcontainer, which resolves it inside the root as
// it always did; and when any mount's destination (outside /proc, /sys
// and /dev) goes through a symbolic link of the image, all of them are
// (plainDestinations). So is any bind with flags beyond rbind and rprivate.
// BERTH_PREBINDS=off leaves them all to libcontainer. The
// container sees the same mounts (TestPreBindsSameAsLibcontainers), but
// for their place in the mount table: they come before /proc.

// preBindsEnv turns the binds made by the shim off when it is "off".
const preBindsEnv = "BERTH_PREBINDS"

// preBind is one bind mount the shim makes.
type preBind struct {
	m    *configs.Mount
	rel  string // its destination relative to the root filesystem
	done int    // the mount's root once made, -1 before
}

// planPreBinds is the binds of cfg the shim may make, in cfg's order. It
// does no I/O.
func planPreBinds(cfg *configs.Config) []*preBind {
	if cfg.MountLabel != "" || cfg.RootlessEUID || cfg.Namespaces.Contains(configs.NEWUSER) || !cfg.Namespaces.Contains(configs.NEWNS) {
		return nil
	}
	var out []*preBind
	for _, m := range cfg.Mounts {
		dst := filepath.Clean(m.Destination)
		if !plainBind(m) || !filepath.IsAbs(m.Destination) || dst == "/" || underAny(dst, "/proc", "/sys", "/dev") {
			continue
		}
		if slices.ContainsFunc(cfg.Mounts, func(o *configs.Mount) bool {
			od := filepath.Clean(o.Destination)
			return o != m && (od == dst || underAny(od, dst) || underAny(dst, od) && od != "/")
		}) {
			continue
		}
		out = append(out, &preBind{m: m, rel: strings.TrimPrefix(dst, "/"), done: -1})
	}
	return out
}

// plainBind reports whether m is a bind the shim makes as libcontainer
// would with one mount call: recursive or not, private (which every
// mount of the shim's namespace is), nothing else.
func plainBind(m *configs.Mount) bool {
	if m.Device != "bind" || m.Flags&^(unix.MS_BIND|unix.MS_REC) != 0 || m.Flags&unix.MS_BIND == 0 ||
		m.ClearedFlags != 0 || m.RecAttr != nil || m.IDMapping != nil || m.Extensions != 0 {
		return false
	}
	for _, p := range m.PropagationFlags {
		if p != unix.MS_PRIVATE && p != unix.MS_PRIVATE|unix.MS_REC {
			return false
		}
	}
	return true
}

// underAny reports whether p is strictly under one of dirs.
func underAny(p string, dirs ...string) bool {
	for _, d := range dirs {
		if d == "/" || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// beneath resolves a path in the root filesystem without a symbolic
// link, a magic link, a mount crossing, or leaving it.
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// mount makes the bind in the calling thread's mount namespace, under
// the root filesystem root (a descriptor of it); made reports false when
// it is left to libcontainer.
func (b *preBind) mount(root int) (made bool, err error) {
	var src unix.Stat_t
	if err := unix.Stat(b.m.Source, &src); err != nil {
		return false, nil // libcontainer says what is wrong with it
	}
	dst, err := unix.Openat2(root, b.rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: beneath})
	if errors.Is(err, unix.ENOENT) {
		dst, err = b.makePoint(root, src.Mode&unix.S_IFMT == unix.S_IFDIR)
	}
	if err != nil {
		return false, nil // a symbolic link, a mount, ...: resolved by libcontainer
	}
	defer unix.Close(dst)
	var st unix.Stat_t
	if err := unix.Fstat(dst, &st); err != nil || (st.Mode&unix.S_IFMT == unix.S_IFDIR) != (src.Mode&unix.S_IFMT == unix.S_IFDIR) {
		return false, nil
	}
	if err := unix.Mount(b.m.Source, fmt.Sprintf("/proc/self/fd/%d", dst), "", uintptr(b.m.Flags), ""); err != nil {
		return false, fmt.Errorf("binding %s at %s: %w", b.m.Source, b.m.Destination, err)
	}
	// The mount's root, to detach it by (its path is the image's); without
	// it, the shim's copy stays until its namespace ends.
	if b.done, err = unix.Openat2(root, b.rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: beneath &^ unix.RESOLVE_NO_XDEV}); err != nil {
		b.done = -1
		fmt.Fprintf(os.Stderr, "opening the bind at %s: %v\n", b.m.Destination, err)
	}
	return true, nil
}

// makePoint makes the missing mount point of the bind as libcontainer
// would (a file 0644 or a directory 0755) when its parent directory is
// there; else it is left to libcontainer.
func (b *preBind) makePoint(root int, dir bool) (int, error) {
	parent := filepath.Dir(b.rel)
	pfd, err := unix.Openat2(root, parent, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: beneath})
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	name := filepath.Base(b.rel)
	if dir {
		if err := unix.Mkdirat(pfd, name, 0o755); err != nil {
			return -1, err
		}
	} else {
		fd, err := unix.Openat(pfd, name, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return -1, err
		}
		unix.Close(fd)
	}
	return unix.Openat(pfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// unmount detaches the bind from the calling thread's namespace (the
// init's copy is its own).
func (b *preBind) unmount() {
	if b.done < 0 {
		return
	}
	if err := unix.Unmount(fmt.Sprintf("/proc/self/fd/%d", b.done), unix.MNT_DETACH); err != nil {
		fmt.Fprintf(os.Stderr, "unmounting the bind at %s: %v\n", b.m.Destination, err)
	}
	unix.Close(b.done)
	b.done = -1
}

// plainDestinations reports whether every mount of cfg outside /proc,
// /sys and /dev has a destination whose existing part lies beneath the
// root filesystem root without a symbolic link. A mount libcontainer
// makes through a link (an image's /var/run -> /run) could land on an
// ancestor of a bind the shim made before it and hide it, where
// libcontainer, making both in order, would not; so none is made then.
func plainDestinations(cfg *configs.Config, root int) bool {
	for _, m := range cfg.Mounts {
		dst := filepath.Clean(m.Destination)
		if dst == "/" || dst == "/proc" || dst == "/sys" || dst == "/dev" || underAny(dst, "/proc", "/sys", "/dev") {
			continue
		}
		// Resolution stops at the first component that is missing (ENOENT)
		// or a link (ELOOP), or that leaves the root (EXDEV).
		fd, err := unix.Openat2(root, strings.TrimPrefix(dst, "/"), &unix.OpenHow{
			Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err == nil {
			unix.Close(fd)
			continue
		}
		if !errors.Is(err, unix.ENOENT) {
			return false
		}
	}
	return true
}

// prepareBinds makes the binds of cfg that planPreBinds allows in the
// calling thread's namespace, under the root filesystem at rootfs, and
// takes them out of cfg; it returns the function that detaches them once
// the init has its copies. A bind that fails is left to libcontainer.
func prepareBinds(cfg *configs.Config, rootfs string) func() {
	binds := planPreBinds(cfg)
	if len(binds) == 0 {
		return func() {}
	}
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return func() {}
	}
	defer unix.Close(root)
	if !plainDestinations(cfg, root) {
		return func() {}
	}
	var made []*preBind
	for _, b := range binds {
		ok, err := b.mount(root)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bind mounts: %v (libcontainer makes it)\n", err)
		}
		if ok {
			made = append(made, b)
		}
	}
	cfg.Mounts = slices.DeleteFunc(cfg.Mounts, func(m *configs.Mount) bool {
		return slices.ContainsFunc(made, func(b *preBind) bool { return b.m == m })
	})
	return func() {
		for _, b := range made {
			b.unmount()
		}
	}
}

// prepareInitMounts takes off the init what the shim can make of cfg's
// mounts (prepareDevTree, prepareBinds) when the calling thread is in a
// mount namespace where the root filesystem is mounted and whose root
// mount is not shared (rootNotShared: nothing made reaches the host) and
// berth runs in no user namespace; it returns the function to
// call once the init has started or failed, which detaches the shim's
// copies.
func prepareInitMounts(cfg *configs.Config, p paths) func() {
	none := func() {}
	if userns.RunningInUserNS() || filepath.Clean(cfg.Rootfs) != p.rootfs || !rootfsMounted(p) || !rootNotShared() {
		return none
	}
	dev, binds := none, none
	if os.Getenv(devTreeEnv) != "off" {
		dev = prepareDevTree(cfg, p)
	}
	if os.Getenv(preBindsEnv) != "off" {
		binds = prepareBinds(cfg, p.rootfs)
	}
	return func() {
		binds()
		dev()
	}
}
