// Package atomicfile replaces files whole: the new content is written to a
// temporary file in the same directory and renamed over the old name, so a
// reader sees the old content or the new, never a part, and a failure
// leaves the old file and no temporary one.
//
// What survives a crash of the host is the caller's choice: nothing more
// than the rename by default, the file's data with SyncFile, and the new
// name too with Durable. Each fsync costs time on a busy disk, and files
// under the run root (a tmpfs that a reboot empties) need none.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Option sets how Write makes the file.
type Option func(*options)

type options struct {
	mode     os.FileMode
	setMode  bool
	uid, gid int
	setOwner bool
	sync     durability
}

type durability int

const (
	noSync   durability = iota
	syncFile            // the file's data before the rename
	syncAll             // and the directory after it
)

// Mode gives the file mode m (permission bits, and os.ModeSetuid,
// os.ModeSetgid, os.ModeSticky) before any byte is written. Without it the
// file keeps the 0600 (less the umask) of a new temporary file.
func Mode(m os.FileMode) Option {
	return func(o *options) { o.mode, o.setMode = m, true }
}

// Owner gives the file owner uid:gid before any byte is written (and
// before Mode, as a change of owner clears the setuid and setgid bits);
// -1 keeps the one of the writing process.
func Owner(uid, gid int) Option {
	return func(o *options) { o.uid, o.gid, o.setOwner = uid, gid, true }
}

// SyncFile syncs the file's data before the rename: after a crash of the
// host the name holds the old content or the new, whole, but the rename
// itself may be lost.
func SyncFile() Option {
	return func(o *options) { o.sync = max(o.sync, syncFile) }
}

// Durable syncs the file before the rename and the directory after it:
// once Write returns, the new content survives a crash of the host.
func Durable() Option {
	return func(o *options) { o.sync = syncAll }
}

// Write replaces path with data.
func Write(path string, data []byte, opts ...Option) error {
	return WriteFunc(path, func(w io.Writer) error {
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}, opts...)
}

// WriteFunc replaces path with what fill writes (to the temporary file, an
// *os.File). An error of fill leaves the old file and is returned as it is.
func WriteFunc(path string, fill func(io.Writer) error, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close() // a second Close after the one below fails harmlessly
			os.Remove(f.Name())
		}
	}()
	if o.setOwner && (o.uid >= 0 || o.gid >= 0) {
		if err := f.Chown(o.uid, o.gid); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if o.setMode {
		if err := f.Chmod(o.mode); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := fill(f); err != nil {
		return err
	}
	if o.sync >= syncFile {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	renamed = true
	if o.sync >= syncAll {
		return SyncDir(filepath.Dir(path))
	}
	return nil
}

// SyncDir makes the entries of directory dir durable: a rename into it, a
// removal from it.
func SyncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
