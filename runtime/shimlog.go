package runtime

import (
	"fmt"
	"io"
	"os"
)

// maxShimLog is the size beyond which a shim.log is rotated: its content
// moves to shim.log.1 (replacing the one before) and shim.log starts
// empty, so a shim's own messages hold at most twice this on disk.
const maxShimLog = 1 << 20

// rotateShimLog rotates the shim log at path when it is larger than max.
// It copies and truncates rather than renames, so that a shim writing to
// it (O_APPEND) goes on writing into shim.log.
func rotateShimLog(path string, max int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rotating %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= max {
		return err
	}
	old, err := os.OpenFile(path+".1.tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("rotating %s: %w", path, err)
	}
	_, err = io.Copy(old, f)
	if cerr := old.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(path+".1.tmp", path+".1")
	}
	if err == nil {
		err = f.Truncate(0)
	}
	if err != nil {
		os.Remove(path + ".1.tmp")
		return fmt.Errorf("rotating %s: %w", path, err)
	}
	return nil
}
