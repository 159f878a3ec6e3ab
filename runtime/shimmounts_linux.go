package runtime

import (
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// A shim is spawned in a mount namespace of its own (see spawnShim), where
// it mounts its container's root filesystem: the overlay never shows on
// the host. That namespace is a copy of the host's mount table, which
// grows with every container (its network namespace is a mount), and
// once the container runs, its own mount namespace holds its root
// filesystem: the shim's copy serves nothing. So the shim leaves it at
// its re-exec, for the namespace it was spawned from, and the kernel
// frees it (issue 15: memory per container). A restart mounts the root
// filesystem again, in a namespace of one thread that ends with the start.

// A thread that ends in a namespace other than the process's is ended
// with it by Go, but for the main thread, which Go parks instead; parked
// in a start's namespace, or in the container's (libcontainer's thread
// serving the init's mount requests joins it), it would keep that
// namespace and its mounts (the root filesystem of a run over) for the
// shim's life. So a shim's main goroutine, in every image, keeps the main
// thread to itself (it supervises until the shim exits), and so does the
// starter's (it starts each container on a thread of its own).
func init() {
	if len(os.Args) > 1 && (os.Args[1] == "shim" || os.Args[1] == starterArg) {
		goruntime.LockOSThread()
	}
}

// hostMountNSEnv names, in a shim's environment, the descriptor of the
// mount namespace it was spawned from.
const hostMountNSEnv = "BERTH_SHIM_HOST_MNTNS"

// hostMountNS is the descriptor of the mount namespace the shim was
// spawned from, -1: none (the shim stays in its own).
var hostMountNS = -1

// takeHostMountNS takes the descriptor of the namespace the shim was
// spawned from out of its environment: neither the container's init nor
// the shim's next image inherits it.
func takeHostMountNS() {
	v, ok := os.LookupEnv(hostMountNSEnv)
	if !ok {
		return
	}
	os.Unsetenv(hostMountNSEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 0 {
		return
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return
	}
	unix.CloseOnExec(fd)
	hostMountNS = fd
}

// execOutside executes path as syscall.Exec does, from the mount
// namespace the shim was spawned from when it has it: the new image
// starts there, and the shim's own namespace ends with the exec. It
// returns only when the exec failed; the shim goes on where it was.
func execOutside(path string, argv, env []string) error {
	if hostMountNS < 0 {
		return syscall.Exec(path, argv, env)
	}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: a thread that left the namespace ends with this
		// goroutine when the exec fails.
		// Where the namespace cannot be left, the exec happens in it, as
		// before the shim left it: it keeps a copy of the mount table.
		goruntime.LockOSThread()
		err := unix.Unshare(unix.CLONE_FS)
		if err == nil {
			err = unix.Setns(hostMountNS, unix.CLONE_NEWNS)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "shim: leaving its mount namespace: %v\n", err)
		}
		errc <- syscall.Exec(path, argv, env)
	}()
	return <-errc
}

// rootfsMounted reports whether the container's root filesystem is
// mounted where this thread sees it (in the shim's first image, in its own
// namespace).
func rootfsMounted(p paths) bool {
	var root, dir unix.Stat_t
	return unix.Stat(p.rootfs, &root) == nil && unix.Stat(p.dir, &dir) == nil && root.Dev != dir.Dev
}

// launchMounted launches a run of the container (see launch) with its
// root filesystem mounted: as it is, in the shim's first image; else in
// a mount namespace of one thread for the start only (the container's
// own namespace holds the filesystem then). The thread goes back to the
// namespace it was in, so that its own ends even when it is the main
// thread, which Go never ends.
func (s *shim) launchMounted() (launched, error) {
	if rootfsMounted(s.p) {
		return s.launch(false)
	}
	type result struct {
		l   launched
		err error
	}
	res := make(chan result, 1)
	go func() {
		// Never unlocked: its file system context is its own now, and
		// Go ends the thread with the goroutine (the main thread, parked,
		// is back in its namespace).
		goruntime.LockOSThread()
		var r result
		defer func() { res <- r }()
		back, err := os.Open("/proc/thread-self/ns/mnt")
		if err != nil {
			r.err = fmt.Errorf("mounting the root filesystem: %w", err)
			return
		}
		defer back.Close()
		if r.err = mountRootfsPrivately(s.cfg, s.p); r.err == nil {
			r.l, r.err = s.launch(false)
		}
		if err := unix.Setns(int(back.Fd()), unix.CLONE_NEWNS); err != nil {
			fmt.Fprintf(os.Stderr, "shim %s: leaving the start's mount namespace: %v\n", s.cfg.ID, err)
		}
	}()
	r := <-res
	return r.l, r.err
}

// mountRootfsPrivately unshares the calling thread's mount namespace,
// its mounts made private, and mounts the container's overlay there.
func mountRootfsPrivately(c Config, p paths) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unsharing the mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	m, err := rootfsMount(c.Layers, p.upper, p.work, p.rootfs)
	if err != nil {
		return err
	}
	return m.mount()
}
