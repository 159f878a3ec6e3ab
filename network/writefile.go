package network

import (
	"fmt"
	"os"
)

// WriteFileInPlace replaces the contents of path with data while keeping
// its inode, creating the file if it does not exist.
//
// Files such as a container's /etc/hosts and /etc/resolv.conf are bind
// mounted into the container, and a bind mount pins the inode, not the
// name. The usual write-to-temp-and-rename would give the name a new inode:
// the container would keep seeing the old contents for ever, and renaming
// over a path that is itself a mount point fails with EBUSY. So the data
// is written over the old bytes from offset 0 and the file is then cut to
// its new length; a reader racing the update may see a mix of old and new
// lines, but never an empty file.
func WriteFileInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s in place: %w", path, err)
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Truncate(int64(len(data)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s in place: %w", path, err)
	}
	return nil
}
