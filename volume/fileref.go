package volume

import (
	"fmt"
	"os"
	"path/filepath"
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
	if err := writeAtomic(dir, name, data, fileMode(mode), uid, gid); err != nil {
		return "", fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
	}
	return filepath.Join(dir, name), nil
}

// writeAtomic writes dir/name through a temporary file that gets owner
// uid:gid (-1 keeps one) and mode before any byte is written, is synced,
// and is renamed over name; then dir is synced.
func writeAtomic(dir, name string, data []byte, mode os.FileMode, uid, gid int) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if uid >= 0 || gid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			return err
		}
	}
	// After Chown, which clears setuid and setgid bits.
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes dir's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
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
