package image

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// The store's tmp, where layers are unpacked, is flagged as the top of
// unrelated trees (chattr +T) on filesystems that have the flag, and
// directories made in it are still plain ones.
func TestTmpIsTopDir(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	fd, err := unix.Open(s.path("tmp"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Skipf("no inode flags on this filesystem: %v", err)
	}
	if flags&0x00020000 /* FS_TOPDIR_FL */ == 0 {
		var st unix.Statfs_t
		if unix.Fstatfs(fd, &st) == nil && st.Type == unix.EXT4_SUPER_MAGIC {
			t.Fatalf("tmp on ext4 without FS_TOPDIR_FL: flags %#x", flags)
		}
		t.Skipf("the filesystem keeps no FS_TOPDIR_FL (flags %#x)", flags)
	}
	// Opening the store again keeps the flag and changes nothing else.
	mustOpen(t, s.path(".."))
	again, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil || again != flags {
		t.Fatalf("flags after a second open: %#x, %v; want %#x", again, err, flags)
	}
	sub, err := os.MkdirTemp(s.path("tmp"), "snapshot-")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		t.Fatalf("directory in tmp: %v", err)
	}
}
