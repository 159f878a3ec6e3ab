package network

import (
	"bytes"
	"fmt"
	"os"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// WriteFileInPlace replaces the contents of path with data while keeping
// its inode, creating the file if it does not exist.
//
// Files such as a container's /etc/hosts and /etc/resolv.conf are bind
// mounted into the container, and a bind mount pins the inode, not the
// name. The usual write-to-temp-and-rename would give the name a new inode:
// the container would keep seeing the old contents for ever, and renaming
// over a path that is itself a mount point fails with EBUSY.
//
// Guarantee: the file is never empty and never ends in a cut line or in
// stale bytes of an older version. The file only grows (by appending
// blank lines) and is then overwritten in one pwrite with data padded by
// blank lines to its length; blank lines mean nothing to hosts and
// resolv.conf parsers. It is cut down only when the padding would exceed
// both data's length and shrinkSlack, which keeps the file small without
// truncating on every update (a reader racing a truncation may see the
// cut-off tail as NUL bytes, which parsers also skip).
//
// Not guaranteed: Linux does not make a pwrite atomic against a
// concurrent read on ext4 or tmpfs (XFS does lock), so a read that runs
// during the kernel's copy of one update can mix bytes of the old and
// new version. The window is one memory copy of the file per update. A
// caller that needs strict atomicity bind mounts a directory instead and
// updates files in it with ReplaceFile.
//
// The file must exist (a missing one is os.ErrNotExist): what is rewritten
// in place is a file already bind-mounted, and a file its owner just
// removed must not come back.
func WriteFileInPlace(path string, data []byte) error {
	if err := writeInPlace(path, data); err != nil {
		return fmt.Errorf("writing %s in place: %w", path, err)
	}
	return nil
}

// shrinkSlack is how many bytes of blank padding WriteFileInPlace keeps
// at most beyond the length of the data, unless the data is longer.
const shrinkSlack = 4096

func writeInPlace(path string, data []byte) (err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0) // never create: a file removed meanwhile stays removed
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := int(fi.Size())
	if grow := len(data) - size; grow > 0 {
		if _, err := f.WriteAt(bytes.Repeat([]byte{'\n'}, grow), int64(size)); err != nil {
			return err
		}
		size = len(data)
	}
	padded := append(append(make([]byte, 0, size), data...), bytes.Repeat([]byte{'\n'}, size-len(data))...)
	if _, err := f.WriteAt(padded, 0); err != nil {
		return err
	}
	if pad := size - len(data); pad > shrinkSlack && pad > len(data) {
		return f.Truncate(int64(len(data)))
	}
	return nil
}

// ReplaceFile atomically replaces path with a file holding data: it is
// written to a temporary file in the same directory and renamed over
// path, so a reader sees the old or the new file, never anything in
// between. The inode changes: a bind mount of path itself keeps the old
// one (use WriteFileInPlace there), a bind mount of its directory sees
// the new one.
func ReplaceFile(path string, data []byte) error {
	return atomicfile.Write(path, data, atomicfile.Mode(0o644))
}
