package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/internal/topdir"
)

// A container's /etc files are on the state root's disk, as Docker keeps
// them, never on a tmpfs of their own nor under the run root (issue 15:
// their page cache is reclaimable); what the container writes to them
// lands there; its secrets are on a tmpfs even where the run root is
// not; `down` leaves nothing behind and no mount (CheckLeaks).
func TestEtcFilesOnDiskAndSecretsInMemory(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	dir := project(t, `
services:
  writer:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo '10.9.9.9 written-inside' >> /etc/hosts; echo wrote=$$?; exec sleep 1000"]
    secrets: [pw]
    stop_grace_period: 0s
secrets:
  pw:
    file: ./pw.txt
`)
	if err := os.WriteFile(filepath.Join(dir, "pw.txt"), []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u := newUser(t, dir)
	t.Cleanup(func() {
		u.try("down", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	u.run("up", "-d")
	name := u.project + "-writer-1"
	var out string
	for range 100 {
		if out = u.run("logs", "writer"); strings.Contains(out, "wrote=") {
			break
		}
		sleep()
	}
	if !strings.Contains(out, "wrote=0") {
		t.Errorf("appending to /etc/hosts in the container: %q", out)
	}
	etc := filepath.Join(u.root, "etc", name)
	if b, err := os.ReadFile(filepath.Join(etc, "hosts")); err != nil || !strings.Contains(string(b), "written-inside") {
		t.Errorf("the container's write is not in %s/hosts: %q, %v", etc, b, err)
	}
	for _, f := range []string{"hosts", "hostname", "resolv.conf"} {
		var st unix.Statfs_t
		if err := unix.Statfs(filepath.Join(etc, f), &st); err != nil || st.Type == unix.TMPFS_MAGIC {
			t.Errorf("%s of %s is on a tmpfs (or missing): type %#x, %v", f, name, st.Type, err)
		}
	}
	// <root>/etc is a top directory, so that each container's directory
	// of /etc files gets a block group of its own on ext4 (see topdir).
	if marked, ok := topdir.Marked(filepath.Dir(etc)); ok && !marked {
		var st unix.Statfs_t
		if unix.Statfs(etc, &st) == nil && st.Type == unix.EXT4_SUPER_MAGIC {
			t.Errorf("%s on ext4 without FS_TOPDIR_FL", filepath.Dir(etc))
		}
	}
	if _, err := os.Stat(filepath.Join(u.runRoot, "etc", name)); !os.IsNotExist(err) {
		t.Errorf("/etc files under the run root: %v", err)
	}
	var st unix.Statfs_t
	if d := filepath.Join(u.runRoot, "files", name, "secrets"); unix.Statfs(d, &st) != nil || st.Type != unix.TMPFS_MAGIC {
		t.Errorf("%s is not on a tmpfs: type %#x", d, st.Type)
	}
	if got := u.run("exec", "writer", "cat", "/run/secrets/pw"); got != "hunter2\n" {
		t.Errorf("the secret in the container: %q", got)
	}
	u.run("down", "-t", "0")
	for _, d := range []string{etc, filepath.Join(u.runRoot, "files", name)} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left after down: %v", d, err)
		}
	}
}
