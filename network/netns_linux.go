package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// CreateNetNS makes a new network namespace, bind-mounted at path (parent
// directories are created) so that it outlives every process in it, with
// its loopback interface up. A namespace already mounted at path is kept.
//
// The namespace is made by a goroutine locked to its own OS thread, which
// unshares, mounts and then exits without unlocking, so the Go runtime
// discards that thread: no other goroutine, the caller's included, ever
// runs in the new namespace by accident.
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
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		errc <- newNetNSOnThread(path)
	}()
	if err := <-errc; err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("creating netns %s: %w", path, err)
	}
	return nil
}

// newNetNSOnThread moves the calling (locked, disposable) thread into a new
// network namespace, bind-mounts it at path and sets lo up.
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
