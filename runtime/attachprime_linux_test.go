package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// TestOwnCgroup: the primer's cgroup is the process's own, in the
// unified hierarchy first (alone at the root or beside v1 ones), else in
// the first v1 one mounted (by its controllers, a joined mount's name,
// or name=), and none when no hierarchy of the process is mounted.
func TestOwnCgroup(t *testing.T) {
	v1 := "12:pids:/p\n4:cpu,cpuacct:/c\n1:name=systemd:/s\n"
	cases := []struct {
		name, self string
		dirs       []string // cgroup directories (with a cgroup.procs) under the root
		mount      string   // under the root
		path       string
	}{
		{"pure v2", "0::/user.slice/a.scope\n", []string{"user.slice/a.scope"}, "", "/user.slice/a.scope"},
		{"hybrid", v1 + "0::/u\n", []string{"unified/u", "pids/p", "cpu,cpuacct/c"}, "unified", "/u"},
		{"v1 by controller", v1 + "0::/\n", []string{"pids/p", "cpu,cpuacct/c"}, "pids", "/p"},
		{"v1 joined mount", v1, []string{"cpu,cpuacct/c", "systemd/s"}, "cpu,cpuacct", "/c"},
		{"v1 split mounts", v1, []string{"cpuacct/c", "systemd/s"}, "cpuacct", "/c"},
		{"v1 named", v1, []string{"systemd/s"}, "systemd", "/s"},
		{"not mounted", v1 + "0::/u\n", []string{"pids/other"}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range c.dirs {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, d, "cgroup.procs"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			self := filepath.Join(t.TempDir(), "cgroup")
			if err := os.WriteFile(self, []byte(c.self), 0o644); err != nil {
				t.Fatal(err)
			}
			mount, path := ownCgroup(self, root)
			want := filepath.Join(root, c.mount)
			if c.path == "" {
				want = ""
			}
			if mount != want || path != c.path {
				t.Fatalf("ownCgroup = %q %q, want %q %q", mount, path, want, c.path)
			}
		})
	}
}

// TestPrimeWriteMovesNothing: the primer's write, with this process
// moved into a cgroup of its own after an earlier prime, is accepted by
// the kernel and leaves the process in every cgroup it is in.
func TestPrimeWriteMovesNothing(t *testing.T) {
	testutil.RequiresRoot(t)
	mount, orig := ownCgroup("/proc/self/cgroup", "/sys/fs/cgroup")
	if mount == "" {
		t.Fatal("no cgroup of this process found under /sys/fs/cgroup")
	}
	// A cgroup of the test's own in that hierarchy, so that a write to
	// any other cgroup would move the process.
	dir := filepath.Join(mount, fmt.Sprintf("berth-prime-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A prime before the move: the primer must not remember where the
	// process was then.
	if err := primeNow(); err != nil {
		t.Fatalf("the primer's write before the move: %v", err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	t.Cleanup(func() {
		if err := os.WriteFile(filepath.Join(mount, orig, "cgroup.procs"), pid, 0o644); err != nil {
			t.Errorf("moving the test back to %s: %v", orig, err)
		}
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing the test's cgroup: %v", err)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), pid, 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	m, p := ownCgroup("/proc/self/cgroup", "/sys/fs/cgroup")
	if m != mount || p != "/"+filepath.Base(dir) {
		t.Fatalf("ownCgroup = %q %q in the test's cgroup, want %q %q", m, p, mount, "/"+filepath.Base(dir))
	}
	if err := primeNow(); err != nil {
		t.Fatalf("the primer's write: %v", err)
	}
	after, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("the primer's write moved the process:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
