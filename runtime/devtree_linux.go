package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// A container's /dev is, as libcontainer makes it, a tmpfs with the
// devpts at /dev/pts and the tmpfs at /dev/shm on it, the mount points of
// the other mounts under /dev, a node per device (null, zero, ... and the
// compose file's devices:), and the symbolic links ptmx, fd, stdin,
// stdout, stderr and core. The init makes each mount and node through
// libcontainer's safe-path lookups (openat2 and /proc/self/fd readlinks
// per step: about 1 ms of CPU per container, issue 15). The shim makes
// the same tree with plain calls in a staging directory of its own, in the
// private mount namespace it starts the init from (the init's is a copy of
// it), and moves it onto the root filesystem's dev directory, opened
// without following a symbolic link and checked to be a directory of the
// root filesystem itself: no path the image controls is followed. The
// init's configuration then has neither those mounts nor those nodes;
// libcontainer still makes the links (in the same order after the nodes)
// and, its /dev not being a bind mount, gives the container's process the
// container's /dev/null for a standard stream that is /dev/null. The
// container sees the same /dev (TestDevTreeSameAsLibcontainers), but for
// the order of the mount table: /dev and its two mounts come before /proc
// (made in the container's PID namespace by the init). The shim detaches
// its copy once the init has its own. BERTH_DEV_TREE=off leaves it to
// libcontainer, as do an SELinux mount label, a user namespace, a /dev
// that is not a plain tmpfs, the image's dev being other than a directory,
// and mounts or devices under /dev the tree does not know how to place
// (planDevTree).

// devTreeEnv turns the prepared /dev off when it is "off".
const devTreeEnv = "BERTH_DEV_TREE"

// devTreeDir is the staging mount point in a container's directory.
const devTreeDir = "devfs"

// devTree is the plan of a container's /dev: what the shim makes in the
// staging directory, in libcontainer's order.
type devTree struct {
	stage  string
	dev    *configs.Mount   // the tmpfs at /dev
	points []devPoint       // mounts under /dev, in the configuration's order
	nodes  []*config.Device // device nodes under /dev, in the configuration's order
	kept   []*configs.Mount // the configuration's mounts left to the init
	left   []*config.Device // the configuration's devices left to the init
}

// devPoint is a mount under /dev: made by the shim (mount set), or only
// its mount point, the init mounting it.
type devPoint struct {
	name  string         // base name under /dev
	mount *configs.Mount // nil: the init mounts it
	bind  string         // the source of a bind the init makes: its mount point is a directory
}

// planDevTree is the plan of cfg's /dev staged at stage, or nil when
// libcontainer should make it. It does no I/O.
func planDevTree(cfg *configs.Config, stage string) *devTree {
	if cfg.MountLabel != "" || cfg.RootlessEUID || cfg.Namespaces.Contains(configs.NEWUSER) || !cfg.Namespaces.Contains(configs.NEWNS) {
		return nil
	}
	t := &devTree{stage: stage}
	var under []string // mount points under /dev
	for _, m := range cfg.Mounts {
		dst := filepath.Clean(m.Destination)
		switch {
		case dst == "/dev":
			if t.dev != nil || m.Device != "tmpfs" || !plainMount(m) {
				return nil
			}
			t.dev = m
			continue
		case !strings.HasPrefix(dst, "/dev/"):
			t.kept = append(t.kept, m)
			continue
		}
		name := strings.TrimPrefix(dst, "/dev/")
		if t.dev == nil || strings.Contains(name, "/") {
			return nil // under /dev before it, or deeper than its top
		}
		under = append(under, dst)
		switch {
		case dst == "/dev/pts" && m.Device == "devpts" && plainMount(m),
			dst == "/dev/shm" && m.Device == "tmpfs" && plainMount(m):
			t.points = append(t.points, devPoint{name: name, mount: m})
		case m.Device == "mqueue":
			t.points = append(t.points, devPoint{name: name})
			t.kept = append(t.kept, m)
		case m.Device == "bind" && m.IDMapping == nil:
			t.points = append(t.points, devPoint{name: name, bind: m.Source})
			t.kept = append(t.kept, m)
		default:
			return nil // a tmpfs's mode would come from a mount point made beforehand
		}
	}
	if t.dev == nil {
		return nil
	}
	for _, d := range cfg.Devices {
		p := filepath.Clean(d.Path)
		if d.Path == "" || p == "/dev/ptmx" || !strings.HasPrefix(p, "/dev/") {
			t.left = append(t.left, d)
			continue
		}
		if slices.ContainsFunc(under, func(u string) bool { return p == u || strings.HasPrefix(p, u+"/") }) {
			return nil
		}
		if d.Type != config.CharDevice && d.Type != config.BlockDevice && d.Type != config.FifoDevice {
			return nil
		}
		t.nodes = append(t.nodes, d)
	}
	return t
}

// plainMount reports whether m is a mount the tree makes with one mount
// call as libcontainer would: not read-only (libcontainer remounts that
// later), no propagation, no extension, no recursive attributes.
func plainMount(m *configs.Mount) bool {
	return m.Flags&(unix.MS_RDONLY|unix.MS_BIND|unix.MS_REMOUNT) == 0 && len(m.PropagationFlags) == 0 &&
		m.Extensions == 0 && m.RecAttr == nil && m.IDMapping == nil && m.ClearedFlags == 0
}

// apply leaves to the init, in cfg, only what the tree does not make.
func (t *devTree) apply(cfg *configs.Config) {
	cfg.Mounts, cfg.Devices = t.kept, t.left
}

// mount makes the tree in the calling thread's mount namespace, which
// must be private, and moves it onto rootfs's dev directory (made as
// libcontainer would when the image has none). On error nothing of it is
// left mounted.
func (t *devTree) mount(rootfs string) error {
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", rootfs, err)
	}
	defer unix.Close(root)
	dev, mode, err := openDevDir(root)
	if err != nil {
		return err
	}
	defer unix.Close(dev)
	if err := os.Mkdir(t.stage, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("making %s: %w", t.stage, err)
	}
	data := t.dev.Data
	if mode >= 0 {
		// libcontainer's tmpfs takes the mode of the directory it covers
		// unless its options say otherwise.
		data = strings.TrimSuffix(fmt.Sprintf("mode=%04o,%s", mode, data), ",")
	}
	if err := unix.Mount(t.dev.Source, t.stage, "tmpfs", uintptr(t.dev.Flags), data); err != nil {
		return fmt.Errorf("mounting the /dev tree at %s: %w", t.stage, err)
	}
	err = t.fill()
	if err == nil {
		err = unix.Mount(t.stage, fmt.Sprintf("/proc/self/fd/%d", dev), "", unix.MS_MOVE, "")
		if err != nil {
			err = fmt.Errorf("moving the /dev tree onto %s/dev: %w", rootfs, err)
		}
	}
	if err != nil {
		if uerr := unix.Unmount(t.stage, unix.MNT_DETACH); uerr != nil {
			fmt.Fprintf(os.Stderr, "unmounting the /dev tree %s: %v\n", t.stage, uerr)
		}
		return err
	}
	return nil
}

// openDevDir opens the dev directory of the root filesystem root, made
// when absent, never through a symbolic link nor onto another file
// system; mode is its mode when it was there, -1 when made.
func openDevDir(root int) (fd int, mode int, err error) {
	var rst unix.Stat_t
	if err := unix.Fstat(root, &rst); err != nil {
		return -1, 0, fmt.Errorf("reading the root filesystem: %w", err)
	}
	const flags = unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err = unix.Openat(root, "dev", flags, 0)
	existed := err == nil
	if errors.Is(err, unix.ENOENT) {
		if err = unix.Mkdirat(root, "dev", 0o755); err == nil || errors.Is(err, unix.EEXIST) {
			fd, err = unix.Openat(root, "dev", flags, 0)
		}
	}
	if err != nil {
		return -1, 0, fmt.Errorf("opening the root filesystem's dev directory: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Dev != rst.Dev {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("the root filesystem's dev directory is on another file system (%v)", err)
	}
	if !existed {
		return fd, -1, nil
	}
	return fd, int(st.Mode & 0o7777), nil
}

// fill makes the mounts, mount points and device nodes in the staged
// tmpfs, in libcontainer's order.
func (t *devTree) fill() error {
	for _, p := range t.points {
		dst := filepath.Join(t.stage, p.name)
		if p.bind != "" {
			if fi, err := os.Stat(p.bind); err != nil || !fi.IsDir() {
				return fmt.Errorf("bind source %s at /dev/%s is not a directory (%v)", p.bind, p.name, err)
			}
		}
		if err := os.Mkdir(dst, 0o755); err != nil {
			return fmt.Errorf("making /dev/%s: %w", p.name, err)
		}
		if m := p.mount; m != nil {
			if err := unix.Mount(m.Source, dst, m.Device, uintptr(m.Flags), m.Data); err != nil {
				return fmt.Errorf("mounting /dev/%s: %w", p.name, err)
			}
		}
	}
	for _, d := range t.nodes {
		if err := t.node(d); err != nil {
			return err
		}
	}
	return nil
}

// node makes the device node d as libcontainer's mknodDevice does: its
// parent directories, the node with d's mode and owner; a path already
// made by an earlier device is left as it is.
func (t *devTree) node(d *config.Device) error {
	rel := strings.TrimPrefix(filepath.Clean(d.Path), "/dev/")
	dst := filepath.Join(t.stage, rel)
	if dir := filepath.Dir(dst); dir != t.stage {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("making the directory of device %s: %w", d.Path, err)
		}
	}
	// libcontainer passes uint32(FileMode): moby/sys's DeviceFromPath keeps
	// the set-user-ID, set-group-ID and sticky bits in its low bits.
	mode := uint32(d.FileMode) & 0o7777
	switch d.Type {
	case config.CharDevice:
		mode |= unix.S_IFCHR
	case config.BlockDevice:
		mode |= unix.S_IFBLK
	case config.FifoDevice:
		mode |= unix.S_IFIFO
	}
	dev, err := d.Mkdev()
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	if err := unix.Mknod(dst, mode, int(dev)); errors.Is(err, unix.EEXIST) {
		return nil
	} else if err != nil {
		return fmt.Errorf("making device %s: %w", d.Path, err)
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, dst, mode&^unix.S_IFMT, 0); err != nil {
		return fmt.Errorf("setting the mode of device %s: %w", d.Path, err)
	}
	if err := unix.Lchown(dst, int(d.Uid), int(d.Gid)); err != nil {
		return fmt.Errorf("setting the owner of device %s: %w", d.Path, err)
	}
	return nil
}

// prepareDevTree makes cfg's /dev on the root filesystem p.rootfs,
// mounted in the calling thread's private namespace, when planDevTree
// allows, and leaves to the init only the rest; it returns the function
// that detaches the shim's copy once the init has its own. Where the tree
// cannot be made, cfg is left as it is and libcontainer makes /dev.
func prepareDevTree(cfg *configs.Config, p paths) func() {
	none := func() {}
	t := planDevTree(cfg, filepath.Join(p.dir, devTreeDir))
	if t == nil {
		return none
	}
	if err := t.mount(p.rootfs); err != nil {
		fmt.Fprintf(os.Stderr, "/dev tree: %v (libcontainer makes /dev)\n", err)
		return none
	}
	t.apply(cfg)
	return func() {
		dev := filepath.Join(p.rootfs, "dev")
		if err := unix.Unmount(dev, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil {
			fmt.Fprintf(os.Stderr, "unmounting the /dev tree at %s: %v\n", dev, err)
		}
	}
}
