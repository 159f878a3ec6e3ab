package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// MakeInitLayer makes, in the empty directory scratch, the layer holding
// those of points that the image of layers (bottom first) lacks, and
// returns its directory (inside scratch; the caller makes it durable,
// moves it into place and removes scratch). As Docker makes a container's init layer, the
// overlay of layers with that layer as its upper directory is mounted,
// the points are made in it (the copy-up keeps the image's parents'
// owners and modes), and it is unmounted; the mount lives in a private
// mount namespace of one OS thread, which ends with the thread. A point
// whose path meets a symbolic link, or something other than a directory
// above it, is left out: the init resolves those in the container as
// before. Directories are made 0755 and files 0644, as the init makes them
// with the usual umask of 022.
func MakeInitLayer(layers []string, scratch string, points []MountPoint) (string, error) {
	layer, work, merged := filepath.Join(scratch, "layer"), filepath.Join(scratch, "work"), filepath.Join(scratch, "merged")
	for _, d := range []string{layer, work, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", fmt.Errorf("making an init layer: %w", err)
		}
	}
	m, err := rootfsMount(layers, layer, work, merged)
	if err != nil {
		return "", err
	}
	// volatile: its unmount does not sync the whole filesystem of layer
	// (the caller syncs the few entries made).
	m.Data += ",volatile"
	done := make(chan error, 1)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread ends with its namespace
		done <- makePointsPrivately(m, points)
	}()
	if err := <-done; err != nil {
		return "", fmt.Errorf("making an init layer: %w", err)
	}
	return layer, nil
}

// makePointsPrivately runs on a locked thread: it mounts m in a mount
// namespace of its own, makes the points there and unmounts it.
func makePointsPrivately(m overlayMount, points []MountPoint) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unsharing the mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	if err := m.mount(); err != nil {
		// A kernel before 5.10 has no volatile overlay: sync on unmount.
		m.Data = strings.TrimSuffix(m.Data, ",volatile")
		if err2 := m.mount(); err2 != nil {
			return err
		}
	}
	var errs []error
	for _, p := range points {
		if err := makePoint(m.Target, p); err != nil {
			errs = append(errs, fmt.Errorf("mount point %s: %w", p.Path, err))
		}
	}
	if err := unmountPrivate(m.Target); err != nil {
		errs = append(errs, fmt.Errorf("unmounting %s: %w", m.Target, err))
	}
	return errors.Join(errs...)
}

// busyTries bounds how often unmountPrivate retries, a millisecond apart.
const busyTries = 100

// unmountPrivate unmounts target, a mount of this thread's own mount
// namespace, retrying while it is busy: a process another goroutine
// forks meanwhile holds the files the points' making had open until it
// execs. A mount still busy after busyTries is detached: nothing else
// can reach it, and it goes with its last user.
func unmountPrivate(target string) error {
	for range busyTries {
		if err := unix.Unmount(target, 0); !errors.Is(err, unix.EBUSY) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	return unix.Unmount(target, unix.MNT_DETACH)
}

// makePoint makes p under root when it is missing and every part of its
// path that exists is a directory (no symbolic link followed).
func makePoint(root string, p MountPoint) error {
	parts := strings.Split(strings.TrimPrefix(p.Path, "/"), "/")
	dir := root
	for i, part := range parts {
		at := filepath.Join(dir, part)
		fi, err := os.Lstat(at)
		switch {
		case err == nil && i == len(parts)-1:
			return nil // the image has it: nothing to make
		case err == nil && !fi.IsDir():
			return nil // a link or a file on the way: the init's to resolve
		case errors.Is(err, fs.ErrNotExist) && i == len(parts)-1 && p.File:
			return makeFile(at, 0o644)
		case errors.Is(err, fs.ErrNotExist):
			if err := makeDir(at, 0o755); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		dir = at
	}
	return nil
}

// makeDir and makeFile make an entry with exactly mode, whatever the umask.
func makeDir(p string, mode os.FileMode) error {
	if err := os.Mkdir(p, mode); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

func makeFile(p string, mode os.FileMode) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
