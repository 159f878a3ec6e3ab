package runtime

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// defaultShmSize is Docker's size of /dev/shm when shm_size is not set.
const defaultShmSize = 64 << 20

// ownsShm reports whether container c's /dev/shm is a tmpfs on the host
// (under the run root) that the containers joining its IPC namespace bind
// too, as Docker makes it for ipc: shareable; a /dev/shm of the user's
// own mounts wins.
func ownsShm(c Config) bool {
	if c.Security.IpcMode != IpcShareable {
		return false
	}
	for _, m := range c.Mounts {
		if path.Clean(m.Target) == "/dev/shm" {
			return false
		}
	}
	return true
}

// mountShm mounts a fresh tmpfs of size bytes (0: 64 MiB) at dir, the
// /dev/shm of a shareable container. One left from an earlier run is
// replaced: as in Docker, /dev/shm starts empty at each start.
func mountShm(dir string, size int64) error {
	if err := unmountAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating /dev/shm directory: %w", err)
	}
	if size <= 0 {
		size = defaultShmSize
	}
	opts := "mode=1777,size=" + strconv.FormatInt(size, 10)
	if err := unix.Mount("shm", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
		return fmt.Errorf("mounting /dev/shm at %s: %w", dir, err)
	}
	return nil
}

// unmountShm undoes mountShm when the container is removed; a container
// without one is no error.
func unmountShm(dir string) error {
	if err := unmountAll(dir); err != nil {
		return err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing /dev/shm directory: %w", err)
	}
	return nil
}

// shmOf is the /dev/shm on the host of container name (shmRoot: the run
// root's shm directory), which one joining its IPC namespace binds; an
// error when name's is not there (its ipc is not shareable), in Docker's
// words.
func shmOf(shmRoot, name string) (string, error) {
	dir := filepath.Join(shmRoot, name)
	var st, parent unix.Stat_t
	if unix.Stat(dir, &st) != nil || unix.Stat(shmRoot, &parent) != nil || st.Dev == parent.Dev {
		return "", fmt.Errorf("%w: ipc: container %s: non-shareable IPC (hint: use ipc: shareable for the donor container)", ErrInvalidConfig, name)
	}
	return dir, nil
}
