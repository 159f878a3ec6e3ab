package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// filesTmpfsOptions keep config and secret files in memory even where the
// run root is on disk (a private BERTH_RUN_ROOT): they never reach a disk.
const filesTmpfsOptions = "mode=0700"

// ensureTmpfs makes dir a tmpfs mount with opts, unless it is a mount
// point already.
func ensureTmpfs(dir, opts string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if mountPoint(dir) {
		return nil
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
		return fmt.Errorf("mounting a tmpfs on %s: %w", dir, err)
	}
	return nil
}

// removeTmpfs unmounts dir, if it is a mount point, and removes it with
// what is in it. What is already gone is not an error.
func removeTmpfs(dir string) error {
	if mountPoint(dir) {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmounting %s: %w", dir, err)
		}
	}
	return os.RemoveAll(dir)
}

// mountPoint reports whether dir is on another filesystem than its parent.
func mountPoint(dir string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(dir, &st) != nil || unix.Lstat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}
