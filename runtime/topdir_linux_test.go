package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/internal/topdir"
	"golang.org/x/sys/unix"
)

// Create flags the state root's containers directory as the top of
// unrelated trees (chattr +T) on filesystems that keep the flag, so that
// each container's directory gets a block group of its own; the
// container's directories are plain ones.
func TestContainersDirIsTopDir(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("true")
	if err := e.rt.Create(c); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.root, "containers")
	requireTopDir(t, dir)
	if sub, _ := topdir.Marked(filepath.Join(dir, c.ID)); sub {
		t.Errorf("the container's directory is flagged too")
	}
	if fi, err := os.Stat(e.rt.UpperDir(c.ID)); err != nil || !fi.IsDir() {
		t.Fatalf("upper: %v", err)
	}
}

// A start flags the run root's libcontainer state directory the same way,
// so that each run's state directory (its state file rewritten by
// renames, its exec fifo) gets a block group of its own where the run
// root is on disk, away from the inodes a down just deleted.
func TestRunStateRootIsTopDir(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("true")
	if err := e.rt.Create(c); err != nil {
		t.Fatal(err)
	}
	e.start(t, c)
	e.waitExited(t, c.ID)
	dir := e.rt.paths(c.ID).stateRoot
	requireTopDir(t, dir)
}

// requireTopDir fails the test unless dir is flagged a top directory,
// and skips it where the filesystem keeps no such flag (ext4 does).
func requireTopDir(t *testing.T, dir string) {
	t.Helper()
	marked, ok := topdir.Marked(dir)
	if !ok {
		t.Skip("no inode flags on this filesystem")
	}
	if !marked {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil && st.Type == unix.EXT4_SUPER_MAGIC {
			t.Fatalf("%s on ext4 without FS_TOPDIR_FL", dir)
		}
		t.Skip("the filesystem keeps no FS_TOPDIR_FL")
	}
}
