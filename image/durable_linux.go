package image

import (
	"golang.org/x/sys/unix"
)

// syncDir makes the entries of directory dir (renames into it) durable.
func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fsync(fd)
}

// startWriteback asks the kernel to start writing fd's dirty pages to disk
// without waiting for it, so that the sync at the end of a pull finds
// little left to do. Best effort: a filesystem that refuses it is synced
// all at once.
func startWriteback(fd int) {
	_ = unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
