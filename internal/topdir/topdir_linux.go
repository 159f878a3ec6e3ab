// Package topdir flags directories as the top of unrelated directory
// trees (chattr +T), for ext4's placement of the directories made in them.
package topdir

import "golang.org/x/sys/unix"

// fsTopdirFl is FS_TOPDIR_FL (linux/fs.h), which golang.org/x/sys lacks.
const fsTopdirFl = 0x00020000

// Mark flags dir as the top of unrelated directory trees (chattr +T):
// ext4 then places each new directory in it (a layer being unpacked, a
// container's directory) in a block group of its own, chosen among the
// emptiest, instead of beside dir, and what is made inside that directory
// goes to its group. Without it every file of every such tree is
// allocated in dir's group, where on ext4 without a journal each new
// inode is found by scanning past every inode deleted there in the last
// minutes (a pull after a prune, a cold up after a down, spent a tenth of
// their CPU there). Best effort: other filesystems refuse or ignore the
// flag.
func Mark(dir string) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil || flags&fsTopdirFl != 0 {
		return
	}
	_ = unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags|fsTopdirFl))
}

// Marked reports whether dir carries the flag, and whether its
// filesystem keeps inode flags at all (ok).
func Marked(dir string) (marked, ok bool) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, false
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return false, false
	}
	return flags&fsTopdirFl != 0, true
}
