package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// A container writing without end to its /etc/hosts fills its own 1 MiB
// tmpfs, not the run root; its secrets are on a tmpfs even where the run
// root is not; `down` leaves no mount behind (CheckLeaks).
func TestEtcFilesAreBoundedAndSecretsInMemory(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	dir := project(t, `
services:
  greedy:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "head -c 8000000 /dev/zero >> /etc/hosts; echo wrote=$$?; exec sleep 1000"]
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
	runRoot := u.runRoot
	name := u.project + "-greedy-1"
	var out string
	for range 100 {
		if out = u.run("logs", "greedy"); strings.Contains(out, "wrote=") {
			break
		}
		sleep()
	}
	if !strings.Contains(out, "wrote=") || strings.Contains(out, "wrote=0") { // busybox says "I/O error" for ENOSPC
		t.Errorf("8 MB into /etc/hosts did not fail for want of space: %q", out)
	}
	fi, err := os.Stat(filepath.Join(runRoot, "etc", name, "hosts"))
	if err != nil || fi.Size() > 1<<20 {
		t.Errorf("the hosts copy grew past its tmpfs: %v, %v", fi, err)
	}
	for _, d := range []string{filepath.Join(runRoot, "etc", name), filepath.Join(runRoot, "files", name, "secrets")} {
		var st unix.Statfs_t
		if err := unix.Statfs(d, &st); err != nil || st.Type != unix.TMPFS_MAGIC {
			t.Errorf("%s is not on a tmpfs: type %#x, %v", d, st.Type, err)
		}
	}
	if got := u.run("exec", "greedy", "cat", "/run/secrets/pw"); got != "hunter2\n" {
		t.Errorf("the secret in the container: %q", got)
	}
	u.run("down", "-t", "0")
	for _, d := range []string{filepath.Join(runRoot, "etc", name), filepath.Join(runRoot, "files", name)} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left after down: %v", d, err)
		}
	}
}
