package runtime

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// A shim holds an exclusive flock on its container directory for its whole
// life. The kernel drops the lock when the shim dies, however it dies, so
// the lock is the truth about whether a shim is alive; a pid could be reused.

// lockDir takes the shim lock on dir, waiting while another holder
// (a short-lived probe) has it. The returned file holds the lock until closed.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return f, nil
}

// shimAlive reports whether a shim holds the lock on dir.
func shimAlive(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	return errors.Is(err, unix.EWOULDBLOCK)
}
