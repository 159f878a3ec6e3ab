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
	n, err := makeNetNS(path, nil)
	if err != nil {
		return err
	}
	n.Close()
	return nil
}

// netNS is a network namespace mounted at a path, open, with a route
// netlink socket inside it: requests on in act there from any thread.
type netNS struct {
	ns netns.NsHandle
	in *netlink.Handle
	// fresh is set when makeNetNS made the namespace: it holds only lo,
	// so nothing in it needs checking or clearing.
	fresh bool
	// here is set while the calling goroutine runs on a locked thread
	// inside the namespace (makeNetNS's fill): its /proc/sys/net files
	// are the namespace's, written without sending a thread there.
	here bool
}

// sysctl writes value to /proc/sys/<key> inside n unless it already
// holds it (see setNetNSSysctl).
func (n *netNS) sysctl(key, value string) error {
	if n.here {
		return setSysctlHere(key, value)
	}
	return setNetNSSysctl(n.ns, key, value)
}

// Close closes the namespace's descriptor and socket; the namespace stays
// mounted.
func (n *netNS) Close() {
	n.in.Close()
	n.ns.Close()
}

// makeNetNS makes the namespace at path as CreateNetNS does, or opens the
// one already mounted there, and runs fill (unless nil) on it. A new one
// is made, mounted, given lo up and its socket, and filled in one visit
// of a locked thread (n.here is set for fill): no other thread enters it.
// fill must use only sockets opened before (see hostRoute) or n's.
// A fill that fails leaves the namespace mounted.
func makeNetNS(path string, fill func(n *netNS) error) (*netNS, error) {
	if NetNSExists(path) {
		n, err := openNetNSAt(path)
		if err == nil && fill != nil {
			if err = fill(n); err != nil {
				n.Close()
			}
		}
		if err != nil {
			return nil, err
		}
		return n, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating netns %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o444)
	if err != nil {
		return nil, fmt.Errorf("creating netns %s: mount point: %w", path, err)
	}
	f.Close()
	n := &netNS{fresh: true}
	var filled error
	err = onThreadAway(func() error {
		if err := newNetNSOnThread(path, n); err != nil {
			return err
		}
		if fill != nil {
			n.here = true
			filled = fill(n)
			n.here = false
		}
		return nil
	})
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("creating netns %s: %w", path, err)
	}
	if filled != nil {
		n.Close()
		return nil, filled
	}
	return n, nil
}

// newNetNSOnThread moves the calling (locked) thread into a new network
// namespace, bind-mounts it at path, opens it and a route socket in it
// into n and sets lo up there.
func newNetNSOnThread(path string, n *netNS) (err error) {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
	if err := unix.Mount(self, path, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	defer func() {
		if err != nil {
			if n.in != nil {
				n.in.Close()
			}
			if n.ns.IsOpen() {
				n.ns.Close()
			}
			_ = unix.Unmount(path, unix.MNT_DETACH)
		}
	}()
	if n.ns, err = netns.GetFromPath(self); err != nil {
		return fmt.Errorf("opening the new netns: %w", err)
	}
	if n.in, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil { // a socket made here is the namespace's
		return fmt.Errorf("opening netlink in the new netns: %w", err)
	}
	// lo is the first link of every namespace (LOOPBACK_IFINDEX).
	if err := n.in.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "lo", Index: 1}}); err != nil {
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

// openNetNSAt opens the namespace mounted at path with a route socket in
// it; the socket is made without entering the namespace's thread by hand.
func openNetNSAt(path string) (*netNS, error) {
	ns, err := openNetNS(path)
	if err != nil {
		return nil, err
	}
	in, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("opening netlink in netns %s: %w", path, err)
	}
	return &netNS{ns: ns, in: in}, nil
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
	return runInNetNS(ns, func() error { return setSysctlHere(key, value) })
}

// setSysctlHere is setNetNSSysctl for the namespace the calling (locked)
// thread is in.
func setSysctlHere(key, value string) error {
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
}
