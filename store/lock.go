package store

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// LockProject takes the per-project lock under runRoot, waiting for any
// other berth working on the same project, and returns its release.
func LockProject(runRoot, project string) (unlock func(), err error) {
	dir := filepath.Join(runRoot, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating lock directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, project+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock of project %q: %w", project, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking project %q: %w", project, err)
	}
	return func() { f.Close() }, nil
}
