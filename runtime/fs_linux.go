package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/lifecycle"
)

// ErrBusy reports a container whose shim is starting it or waiting to
// restart it: its filesystem is in no steady place to be copied.
var ErrBusy = errors.New("container is starting or restarting")

// InFilesystem calls fn with a path to container id's root filesystem as
// its processes see it, volumes and binds included. For a running
// container that is /proc/PID/root. For one that is not, the overlay and
// the bind mounts are mounted in a private mount namespace of one OS
// thread, for fn's duration only: the namespace, and every mount in it,
// ends with that thread, whatever happens; the container cannot start
// meanwhile (its shim waits for the directory lock). The path is only
// valid during fn; it is resolved normally, so callers resolve paths
// under it with care (fscopy does, inside it as a root).
func (r *Runtime) InFilesystem(ctx context.Context, id string, fn func(root string) error) error {
	p := r.paths(id)
	c, err := r.Config(id)
	if err != nil {
		return err
	}
	lock, err := lockShared(p.dir)
	if err != nil {
		return err
	}
	if lock != nil {
		defer lock.Close()
	}
	st, err := r.State(ctx, id)
	switch {
	case err != nil:
		return err
	case st.Status == lifecycle.Running && st.Pid > 0:
		return fn(fmt.Sprintf("/proc/%d/root", st.Pid))
	case lock == nil:
		return fmt.Errorf("container %q: %w", id, ErrBusy)
	}
	return inPrivateMounts(c, p, fn)
}

// lockShared takes a shared lock on a container directory, or returns
// nil when a shim holds it.
func lockShared(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return f, nil
}

// inPrivateMounts mounts the container's filesystem in a new mount
// namespace on a locked OS thread and calls fn with its path as seen from
// any thread (/proc/PID/task/TID/root/…). The thread is never unlocked, so
// Go ends it when its goroutine returns, and the kernel drops the mounts.
func inPrivateMounts(c Config, p paths, fn func(root string) error) error {
	ready := make(chan error, 1)
	done := make(chan struct{})
	var root string
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread dies with the namespace
		var err error
		root, err = mountPrivately(c, p)
		ready <- err
		if err == nil {
			<-done
		}
	}()
	if err := <-ready; err != nil {
		return fmt.Errorf("mounting the filesystem of %q: %w", c.ID, err)
	}
	defer close(done)
	return fn(root)
}

// mountPrivately runs on a locked thread: it unshares its mount namespace
// and mounts the overlay and the binds there.
func mountPrivately(c Config, p paths) (string, error) {
	if err := mountRootfsPrivately(c, p); err != nil {
		return "", err
	}
	for _, b := range bindsInOrder(c.Mounts) {
		if err := bindInto(p.rootfs, b); err != nil {
			return "", err
		}
	}
	if c.ReadOnlyRootfs {
		if err := unix.Mount("", p.rootfs, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			return "", fmt.Errorf("making the rootfs read-only: %w", err)
		}
	}
	return fmt.Sprintf("/proc/%d/task/%d/root%s", os.Getpid(), unix.Gettid(), p.rootfs), nil
}

// bindsInOrder is the bind mounts of a container, parents before the
// mounts below them. tmpfs mounts are left out: a stopped container's are
// empty and gone, so what is under them is the container's own layer.
func bindsInOrder(ms []Mount) []Mount {
	var out []Mount
	for _, m := range ms {
		if m.Type == "bind" {
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b Mount) int {
		return strings.Count(filepath.Clean(a.Target), "/") - strings.Count(filepath.Clean(b.Target), "/")
	})
	return out
}

// bindInto bind-mounts m at its target inside rootfs, resolved inside it
// (a symlink in the image cannot move the target out), making the mount
// point as the container's start would.
func bindInto(rootfs string, m Mount) error {
	target, err := securejoin.SecureJoin(rootfs, m.Target)
	if err != nil {
		return fmt.Errorf("resolving mount target %s: %w", m.Target, err)
	}
	fi, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("bind source of %s: %w", m.Target, err)
	}
	if err := makeMountPoint(target, fi.IsDir()); err != nil {
		return fmt.Errorf("mount point %s: %w", m.Target, err)
	}
	if err := unix.Mount(m.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding %s at %s: %w", m.Source, m.Target, err)
	}
	if m.ReadOnly {
		if err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("making %s read-only: %w", m.Target, err)
		}
	}
	return nil
}

// makeMountPoint creates target as a directory or an empty file when it
// is missing.
func makeMountPoint(target string, dir bool) error {
	if _, err := os.Lstat(target); err == nil {
		return nil
	}
	if dir {
		return os.MkdirAll(target, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
