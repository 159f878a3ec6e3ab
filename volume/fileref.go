package volume

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// WriteFileRef writes data as file name in dir for a config or secret bind
// mount and returns its path. dir is created if missing and made 0700, so
// only root reaches the file on the host; the file gets exactly owner
// uid:gid and mode. It is replaced atomically: a container never sees a
// half-written file. Callers keep dir on a tmpfs (the run root), never in
// the persistent store. mode is an os.FileMode; the Unix setuid, setgid and
// sticky bits (0o4000, 0o2000, 0o1000, as compose files write them) are
// accepted too.
func WriteFileRef(dir, name string, data []byte, uid, gid int, mode os.FileMode) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("securing %s: %w", dir, err)
	}
	path := filepath.Join(dir, name)
	if err := atomicfile.Write(path, data, atomicfile.Owner(uid, gid), atomicfile.Mode(fileMode(mode)), atomicfile.Durable()); err != nil {
		return "", err
	}
	return path, nil
}

// fileMode turns Unix special bits in m into os.FileMode's flags.
func fileMode(m os.FileMode) os.FileMode {
	for bit, flag := range map[os.FileMode]os.FileMode{0o4000: os.ModeSetuid, 0o2000: os.ModeSetgid, 0o1000: os.ModeSticky} {
		if m&bit != 0 {
			m = m&^bit | flag
		}
	}
	return m
}
