package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// CreateNetNS makes a new network namespace, bind-mounted at path (parent
// directories are created) so that it outlives every process in it, with
// its loopback interface up. A namespace already mounted at path is kept.
//
// The work runs on a goroutine of its own, locked to its OS thread, which
// enters the new namespace and returns to the original one before it
// unlocks: the caller's goroutine never changes namespace. Should the
// return fail, the thread stays locked and the runtime discards it with
// the goroutine, so no other goroutine can inherit the wrong namespace.
func CreateNetNS(path string) error {
	if NetNSExists(path) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating netns %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o444)
	if err != nil {
		return fmt.Errorf("creating netns %s: mount point: %w", path, err)
	}
	f.Close()
	if err := onThreadAway(func() error { return newNetNSOnThread(path) }); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("creating netns %s: %w", path, err)
	}
	return nil
}

// newNetNSOnThread moves the calling (locked) thread into a new network
// namespace, bind-mounts it at path and sets lo up there.
func newNetNSOnThread(path string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
	if err := unix.Mount(self, path, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		_ = unix.Unmount(path, unix.MNT_DETACH)
		return fmt.Errorf("setting lo up: %w", err)
	}
	return nil
}

// RemoveNetNS unmounts the namespace at path and removes the mount point.
// The namespace itself ends when no process and no veth end use it any
// more. A missing path is not an error.
func RemoveNetNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("removing netns %s: unmount: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing netns %s: %w", path, err)
	}
	return nil
}

// NetNSExists reports whether a network namespace is mounted at path.
func NetNSExists(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// openNetNS opens the namespace mounted at path.
func openNetNS(path string) (netns.NsHandle, error) {
	if !NetNSExists(path) {
		return netns.None(), fmt.Errorf("no network namespace mounted at %s: %w", path, os.ErrNotExist)
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return netns.None(), fmt.Errorf("opening netns %s: %w", path, err)
	}
	return ns, nil
}

// runInNetNS runs fn on a thread switched into ns (see onThreadAway).
// Files fn opens under /proc/sys/net are those of ns.
func runInNetNS(ns netns.NsHandle, fn func() error) error {
	return onThreadAway(func() error {
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("entering netns: %w", err)
		}
		return fn()
	})
}

// onThreadAway runs fn on a goroutine locked to its OS thread, which fn
// may move into another network namespace, and brings the thread back to
// the original namespace before unlocking it: no other goroutine ever runs
// in a namespace it did not ask for. Should the return fail, the thread
// stays locked and the runtime discards it with the goroutine.
func onThreadAway(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("opening current netns: %w", err)
			return
		}
		defer orig.Close()
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("returning to the original netns: %w", err))
			return // still locked: the thread dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// setNetNSSysctl writes value to /proc/sys/<key> inside ns unless it
// already holds it. Settings inside a namespace end with it, so they are
// not recorded (see Sysctls).
func setNetNSSysctl(ns netns.NsHandle, key, value string) error {
	return runInNetNS(ns, func() error {
		p := filepath.Join("/proc/sys", key)
		cur, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading sysctl %s in netns: %w", dotted(key), err)
		}
		if strings.TrimSpace(string(cur)) == value {
			return nil
		}
		if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
			return fmt.Errorf("setting sysctl %s=%s in netns: %w", dotted(key), value, err)
		}
		return nil
	})
}
