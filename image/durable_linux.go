package image

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// syncFS flushes the whole filesystem holding dir (data, inodes,
// directories) to disk and waits for it: one call for everything a pull
// wrote, where an fsync per file would wait for each in turn.
func syncFS(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer unix.Close(fd)
	return unix.Syncfs(fd)
}

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
