package image

import (
	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing fd's dirty pages to disk
// without waiting for it, so that the sync at the end of a pull finds
// little left to do. Best effort: a filesystem that refuses it is synced
// all at once.
func startWriteback(fd int) {
	_ = unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
