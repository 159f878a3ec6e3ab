package runtime

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// mount performs m.
func (m overlayMount) mount() error {
	if err := unix.Mount("overlay", m.Target, "overlay", 0, m.Data); err != nil {
		return fmt.Errorf("mounting overlay rootfs at %s: %w", m.Target, err)
	}
	return nil
}

// unmountAll detaches whatever is mounted at target, tolerating nothing
// being mounted there.
func unmountAll(target string) error {
	for {
		err := unix.Unmount(target, unix.MNT_DETACH)
		switch {
		case err == nil:
			continue // stacked mounts: go on until none is left
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		default:
			return fmt.Errorf("unmounting %s: %w", target, err)
		}
	}
}
