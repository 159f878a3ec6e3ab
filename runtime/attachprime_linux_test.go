package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testutil"
)

// TestOwnCgroup: the primer's cgroup is the process's own, in the
// unified hierarchy first, else in the first v1 one mounted (by its
// controllers, a joined mount's, or name=), found through the mount's
// root (a container's /sys/fs/cgroup without a cgroup namespace shows
// its own subtree at the mount point), and none when no hierarchy of the
// process is mounted, when its cgroup is not under the mount's root, or
// when the directory is not of the hierarchy's filesystem type.
func TestOwnCgroup(t *testing.T) {
	v1 := "12:pids:/p\n4:cpu,cpuacct:/c\n1:name=systemd:/s\n"
	tmpfs := "20 1 0:20 / R rw - tmpfs tmpfs rw\n"
	pids := "21 20 0:21 / R/pids rw - cgroup cgroup rw,pids\n"
	cpu := "22 20 0:22 / R/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
	systemd := "23 20 0:23 / R/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
	unified := "24 20 0:24 / R/unified rw - cgroup2 cgroup2 rw\n"
	cases := []struct {
		name, self, mounts string
		dirs               []string // cgroup directories (with a cgroup.procs) under R
		over               []string // directories under R of another filesystem
		dir                string   // under R; "-" for none
		v2                 bool
	}{
		{"pure v2", "0::/user.slice/a.scope\n", "24 1 0:24 / R rw - cgroup2 cgroup2 rw\n",
			[]string{"user.slice/a.scope"}, nil, "user.slice/a.scope", true},
		{"hybrid", v1 + "0::/u\n", tmpfs + pids + cpu + systemd + unified,
			[]string{"unified/u", "pids/p", "cpu,cpuacct/c"}, nil, "unified/u", true},
		{"v1 by controller", v1 + "0::/\n", tmpfs + pids + cpu + systemd,
			[]string{"pids/p", "cpu,cpuacct/c"}, nil, "pids/p", false},
		{"v1 joined mount", v1, tmpfs + cpu + systemd,
			[]string{"cpu,cpuacct/c", "systemd/s"}, nil, "cpu,cpuacct/c", false},
		{"v1 named", v1, tmpfs + systemd, []string{"systemd/s"}, nil, "systemd/s", false},
		{"not mounted", v1 + "0::/u\n", tmpfs + pids, []string{"pids/other"}, nil, "-", false},
		{"escaped mount point", "0::/u\n", "24 1 0:24 / R/a\\040b rw - cgroup2 cgroup2 rw\n",
			[]string{"a b/u"}, nil, "a b/u", true},
		// A v2 path that names a v1 hierarchy's directory under a tmpfs
		// /sys/fs/cgroup is not the process's v2 cgroup.
		{"v2 path on tmpfs", "12:pids:/x\n0::/pids\n", tmpfs + pids + unified,
			[]string{"pids", "pids/x"}, nil, "pids/x", false},
		{"v2 not cgroup2", "0::/u\n", tmpfs, []string{"u"}, nil, "-", false},
		{"v2 over-mounted", "0::/u\n", tmpfs + unified, []string{"unified/u"}, []string{"unified/u"}, "-", false},
		{"v2 hidden by a later mount", "0::/u\n", tmpfs + unified + "25 24 0:25 / R/unified rw - tmpfs tmpfs rw\n",
			[]string{"unified/u"}, nil, "-", false},
		// A container without a cgroup namespace: its cgroup is the
		// mount's root, and a same-named directory under it is another.
		{"container without cgroupns", "0::/docker/abc\n", "24 1 0:24 /docker/abc R rw - cgroup2 cgroup2 rw\n",
			[]string{".", "docker/abc"}, nil, ".", true},
		{"mount root not /", "0::/docker/abc/sub\n", "24 1 0:24 /docker/abc R rw - cgroup2 cgroup2 rw\n",
			[]string{"sub", "docker/abc/sub"}, nil, "sub", true},
		{"v1 mount root not /", "4:memory:/api/x\n", tmpfs + "26 20 0:26 /api R/memory rw - cgroup cgroup rw,memory\n",
			[]string{"memory/x", "memory/api/x"}, nil, "memory/x", false},
		{"cgroup not under the mount's root", "0::/other\n", "24 1 0:24 /docker/abc R rw - cgroup2 cgroup2 rw\n",
			[]string{".", "other"}, nil, "-", false},
		{"outside the cgroup namespace", "0::/../x\n", "24 1 0:24 / R rw - cgroup2 cgroup2 rw\n",
			[]string{"x"}, nil, "-", false},
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
			mounts := []byte(strings.ReplaceAll(c.mounts, " R", " "+root))
			// The filesystem type of a directory: its cgroup mount's,
			// else tmpfs.
			fsType := func(dir string) int64 {
				for _, o := range c.over {
					if dir == filepath.Join(root, o) {
						return unix.TMPFS_MAGIC
					}
				}
				best, typ := "", int64(unix.TMPFS_MAGIC)
				for _, m := range cgroupMounts(mounts) {
					if (dir == m.point || strings.HasPrefix(dir, m.point+"/")) && len(m.point) > len(best) {
						best, typ = m.point, unix.CGROUP_SUPER_MAGIC
						if m.v2 {
							typ = unix.CGROUP2_SUPER_MAGIC
						}
					}
				}
				return typ
			}
			dir, v2 := ownCgroup([]byte(c.self), mounts, fsType)
			want := filepath.Join(root, c.dir)
			if c.dir == "-" {
				want = ""
			}
			if dir != want || v2 != c.v2 {
				t.Fatalf("ownCgroup = %q %v, want %q %v", dir, v2, want, c.v2)
			}
		})
	}
}

// TestPrimerBounds: a prime is skipped while another is under way and
// within primeQuiet of the last one's end, and runs again after.
func TestPrimerBounds(t *testing.T) {
	var clock int64 = 1
	var pending []func()
	writes := 0
	p := &primer{
		now:   func() int64 { return clock },
		spawn: func(f func()) { pending = append(pending, f) },
		write: func() { writes++ },
	}
	step := func(name string, want bool) {
		t.Helper()
		if got := p.try(); got != want {
			t.Fatalf("%s: try = %v, want %v", name, got, want)
		}
	}
	finish := func() {
		t.Helper()
		if len(pending) != 1 {
			t.Fatalf("%d primes under way, want 1", len(pending))
		}
		pending[0]()
		pending = nil
	}
	step("first", true)
	step("while under way", false)
	clock += int64(time.Second)
	step("long after the start, still under way", false)
	finish()
	step("just after the end", false)
	clock += int64(primeQuiet) - 1
	step("within primeQuiet of the end", false)
	clock++
	step("primeQuiet after the end", true)
	finish()
	if writes != 2 {
		t.Fatalf("%d writes, want 2", writes)
	}
}

// TestPrimeWriteMovesNothing: the primer's write, with this process
// moved into a cgroup of its own after an earlier prime and one of its
// threads in another cgroup of that hierarchy (a threaded one on v2),
// is accepted by the kernel and leaves every thread where it was.
func TestPrimeWriteMovesNothing(t *testing.T) {
	testutil.RequiresRoot(t)
	orig, v2 := hostCgroup(t)
	if orig == "" {
		t.Fatal("no cgroup of this process found")
	}
	// A prime before the move: the primer must not remember where the
	// process was then.
	if err := primeNow(); err != nil {
		t.Fatalf("the primer's write before the move: %v", err)
	}
	// A cgroup of the test's own in that hierarchy, so that a write to
	// any other cgroup would move the process, and one under it for a
	// thread of its own.
	dir := filepath.Join(orig, fmt.Sprintf("berth-prime-test-%d", os.Getpid()))
	split := filepath.Join(dir, "split")
	for _, d := range []string{dir, split} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	t.Cleanup(func() {
		if err := os.WriteFile(filepath.Join(orig, "cgroup.procs"), pid, 0o644); err != nil {
			t.Errorf("moving the test back to %s: %v", orig, err)
		}
		for _, d := range []string{split, dir} {
			if err := removeCgroup(d); err != nil {
				t.Errorf("removing the test's cgroup: %v", err)
			}
		}
	})
	threads := "tasks"
	if v2 {
		threads = "cgroup.threads"
		if err := os.WriteFile(filepath.Join(split, "cgroup.type"), []byte("threaded"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), pid, 0o644); err != nil {
		t.Fatal(err)
	}
	// A thread other than the leader in the split cgroup until the test
	// ends (its goroutine returns locked to it: the thread exits); a
	// goroutine that finds itself on the leader holds it meanwhile.
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	splitTid := 0
	for splitTid == 0 {
		tid := make(chan int)
		go func() {
			goruntime.LockOSThread()
			id := unix.Gettid()
			if id == os.Getpid() {
				tid <- 0
				<-done
				return
			}
			if err := os.WriteFile(filepath.Join(split, threads), []byte(strconv.Itoa(id)), 0o644); err != nil {
				t.Errorf("moving a thread to %s: %v", split, err)
				id = -1
			}
			tid <- id
			<-done
		}()
		splitTid = <-tid
	}
	if splitTid < 0 {
		t.FailNow()
	}
	before := threadCgroups(t)
	if d, _ := hostCgroup(t); d != dir {
		t.Fatalf("ownCgroup = %q in the test's cgroup, want %q", d, dir)
	}
	if err := primeNow(); err != nil {
		t.Fatalf("the primer's write: %v", err)
	}
	after := threadCgroups(t)
	if !strings.Contains(before[splitTid], "/split\n") {
		t.Fatalf("the split thread is not in its cgroup:\n%s", before[splitTid])
	}
	for id, b := range before {
		if a, ok := after[id]; ok && a != b {
			t.Fatalf("the primer's write moved thread %d:\nbefore:\n%s\nafter:\n%s", id, b, a)
		}
	}
}

// threadCgroups is /proc/self/task/*/cgroup by thread id.
func threadCgroups(t *testing.T) map[int]string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]string{}
	for _, e := range tasks {
		id, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc/self/task", e.Name(), "cgroup")); err == nil {
			m[id] = string(b)
		}
	}
	return m
}

// removeCgroup removes the cgroup at dir, waiting a little for an
// exiting thread to leave it.
func removeCgroup(dir string) error {
	var err error
	for i := 0; i < 100; i++ {
		if err = os.Remove(dir); err == nil || !errors.Is(err, unix.EBUSY) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// hostCgroup is ownCgroup of the calling thread.
func hostCgroup(t *testing.T) (string, bool) {
	t.Helper()
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	self, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return ownCgroup(self, mounts, statfsType)
}

// TestPrimeFindsItsCgroupAgainOverAMount: a prime reuses the directory
// an earlier one found only while it is on the same mount. Here a tmpfs
// mounted over it (in a mount namespace of the test's thread) holds the
// cgroup files; the next prime must not write through it (it finds the
// thread's cgroup again, whose directory is no longer a cgroup's).
func TestPrimeFindsItsCgroupAgainOverAMount(t *testing.T) {
	testutil.RequiresRoot(t)
	if mountID("/") == 0 {
		t.Skip("the kernel gives no unique mount IDs (Linux 6.8): the primer remembers nothing")
	}
	err := inOwnMountNS(func() error {
		if err := primeNow(); err != nil {
			return fmt.Errorf("the first prime: %w", err)
		}
		self, err := os.ReadFile("/proc/thread-self/cgroup")
		if err != nil {
			return err
		}
		f := primeFound.p.Load()
		if f == nil || f.self != string(self) {
			return fmt.Errorf("the first prime remembered %+v for this thread", f)
		}
		if dir, _ := primeFound.lookup(self); dir != f.dir {
			return fmt.Errorf("a lookup on the same mount found %q, want %q", dir, f.dir)
		}
		if err := unix.Mount("tmpfs", f.dir, "tmpfs", 0, ""); err != nil {
			return err
		}
		defer unix.Unmount(f.dir, unix.MNT_DETACH)
		files := []string{"cgroup.procs", "tasks", "cgroup.threads"}
		for _, name := range files {
			if err := os.WriteFile(filepath.Join(f.dir, name), nil, 0o644); err != nil {
				return err
			}
		}
		if dir, _ := primeFound.lookup(self); dir != "" {
			return fmt.Errorf("a lookup over another mount found %q", dir)
		}
		_ = primeNow() // another v1 hierarchy, or none
		for _, name := range files {
			if b, err := os.ReadFile(filepath.Join(f.dir, name)); err != nil || len(b) > 0 {
				return fmt.Errorf("the prime wrote %q through the tmpfs's %s (%v)", b, name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
