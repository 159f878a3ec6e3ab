package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// A container's start waits for an RCU grace period it need not.
//
// Every move of a process between cgroups (a write to a cgroup.procs
// file) takes the write side of the kernel's global
// cgroup_threadgroup_rwsem, and a writer that finds no other writer in
// the last grace period waits for a full one (rcu_sync_enter): 6–10 ms
// on this kind of host, with cgroup_mutex held. libcontainer's move of a
// container's init into its cgroups pays it, mid-start, on the path of
// every start that follows a quiet moment (a recreate, `start`, `up` of
// a few services). primeAttach starts that grace period earlier: when
// the shim is spawned, a write that moves nothing (a thread of this
// process into the cgroup it is already in) takes the rwsem's write side in the
// background, so that the grace period runs while the shim starts and
// the init's move, a few milliseconds later, finds the rwsem's fast path
// (it stays on it for a grace period after its last writer).
//
// It is only a speed-up: a host where the write is refused, or where
// the process's cgroup cannot be found, starts containers as before.

// PrimeAttach is primeAttach for a caller that knows a container's
// start is coming (the engine, when it begins to create one): the
// earlier the grace period starts, the less of it the start waits for.
func PrimeAttach() { primeAttach() }

// primeAttach writes, in the background, a thread of this process to
// the cgroup it is in (see above), unless a prime is under way or has
// just ended.
func primeAttach() { attachPrimer.try() }

// attachPrimer is this process's primer.
var attachPrimer = &primer{
	now:   func() int64 { return int64(time.Since(primeEpoch)) },
	spawn: func(f func()) { go f() },
	write: func() { _ = primeNow() },
}

// primeEpoch is the origin of attachPrimer's monotonic clock.
var primeEpoch = time.Now()

// primeQuiet is how long after a prime ended the next one is skipped:
// the rwsem stays on its fast path for a grace period (6 ms or more)
// after its last writer, so a move in that time does not wait, and a
// prime would only take cgroup_mutex (which blocks every fork and exit
// on the host while held) for nothing.
const primeQuiet = 3 * time.Millisecond

// A primer runs at most one prime at a time, and none within
// primeQuiet of the last one's end: an `up` of N containers asks for 2N,
// each of which would take cgroup_mutex and queue with the shims' real
// moves, and a prime that waits behind another finds the fast path the
// other opened.
type primer struct {
	busy  atomic.Bool
	last  atomic.Int64 // now() when the last prime ended; 0 before the first
	now   func() int64 // monotonic nanoseconds, > 0
	spawn func(func()) // runs its argument in the background
	write func()       // the prime
}

// try starts a prime unless one is under way or ended within
// primeQuiet; it reports whether it started one.
func (p *primer) try() bool {
	if last := p.last.Load(); last != 0 && p.now()-last < int64(primeQuiet) {
		return false
	}
	if !p.busy.CompareAndSwap(false, true) {
		return false
	}
	p.spawn(func() {
		p.write()
		p.last.Store(p.now())
		p.busy.Store(false)
	})
	return true
}

// primeNow is the primer's write: the calling thread's tid, to the
// thread file (cgroup.threads, or v1's tasks) of that thread's own
// cgroup. A thread's move takes the rwsem's write side as a process's
// does (cgroup_procs_write_start locks it for any pid written but 0),
// and moves nothing even when the process's threads are in different
// cgroups (a v2 threaded subtree, v1 tasks), where a write of the pid
// to cgroup.procs would gather them all into the leader's. It reads the
// thread's cgroup each time: a long-lived process (`reconcile --watch`)
// may have been moved since its last one, and a write to the cgroup it
// was in then would move it back. The directory found for it is reused
// while the thread's cgroup and the directory's mount are the same (see
// foundCgroup).
func primeNow() error {
	runtime.LockOSThread() // the thread whose cgroup is read is the one written
	defer runtime.UnlockOSThread()
	self, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return err
	}
	dir, v2 := primeFound.lookup(self)
	if dir == "" {
		mounts, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return err
		}
		if dir, v2 = ownCgroup(self, mounts, statfsType); dir == "" {
			return os.ErrNotExist
		}
		primeFound.remember(self, dir, v2)
	}
	file := "tasks"
	if v2 {
		file = "cgroup.threads"
	}
	f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY, 0)
	if err != nil {
		primeFound.forget()
		return err
	}
	_, err = f.WriteString(strconv.Itoa(unix.Gettid()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		primeFound.forget()
	}
	return err
}

// primeFound is the cgroup directory the last prime found.
var primeFound foundCgroup

// foundCgroup remembers the cgroup directory a prime found through the
// whole mount table (which grows by a mount per running container, read
// and parsed at each prime: most of a prime's cost in an `up`), with what
// makes it still right: the thread's /proc/thread-self/cgroup as it was
// then (a thread in another cgroup, or moved since, finds it again) and
// the unique ID of the mount the directory is on (a mount over it or
// over its hierarchy, or a hierarchy unmounted and mounted again, finds
// it again; unique mount IDs are never reused). Without unique mount IDs
// (before Linux 6.8) nothing is remembered.
type foundCgroup struct {
	p atomic.Pointer[found]
}

// found is what foundCgroup remembers.
type found struct {
	self string // the thread's /proc/thread-self/cgroup
	dir  string
	v2   bool
	mnt  uint64 // the unique ID of the mount dir is on
}

// lookup returns the directory remembered for a thread whose
// /proc/thread-self/cgroup reads self, if its mount is still the one it
// was found on; "" otherwise.
func (c *foundCgroup) lookup(self []byte) (dir string, v2 bool) {
	f := c.p.Load()
	if f == nil || f.self != string(self) || mountID(f.dir) != f.mnt {
		return "", false
	}
	return f.dir, f.v2
}

// remember keeps dir, found for self, with the ID of the mount it is on.
func (c *foundCgroup) remember(self []byte, dir string, v2 bool) {
	if id := mountID(dir); id != 0 {
		c.p.Store(&found{self: string(self), dir: dir, v2: v2, mnt: id})
	}
}

// forget drops what c remembers (a write to it failed).
func (c *foundCgroup) forget() { c.p.Store(nil) }

// statfsType is the filesystem type (statfs's f_type) of the directory
// at path; 0 when it cannot be read.
func statfsType(path string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0
	}
	return int64(st.Type)
}

// cgroupMount is a mount of a cgroup hierarchy, from mountinfo.
type cgroupMount struct {
	root, point string   // the directory of the hierarchy mounted, and where
	v2          bool     // cgroup2
	opts        []string // its super options (a v1 one's controllers, name=)
}

// cgroupMounts lists the cgroup mounts of mountinfo (/proc/self/mountinfo's
// format), a mount hidden by a later one on the same point left out; none
// when the table cannot be parsed.
func cgroupMounts(table []byte) []cgroupMount {
	infos, err := mountinfo.GetMountsFromReader(bytes.NewReader(table), nil)
	if err != nil {
		return nil
	}
	var ms []cgroupMount
	for _, m := range infos {
		ms = slices.DeleteFunc(ms, func(c cgroupMount) bool { return c.point == m.Mountpoint }) // hidden by m
		if m.FSType == "cgroup2" || m.FSType == "cgroup" {
			ms = append(ms, cgroupMount{root: m.Root, point: m.Mountpoint, v2: m.FSType == "cgroup2", opts: strings.Split(m.VFSOptions, ",")})
		}
	}
	return ms
}

// under maps a cgroup's path in its hierarchy to its directory under
// a mount of that hierarchy whose root is root: "" when the cgroup is
// not under the mount's root (a container's /sys/fs/cgroup without a
// cgroup namespace shows only its own subtree), or when either path
// leaves its namespace's root ("/.." in a cgroup namespace).
func under(point, root, path string) string {
	for _, p := range []string{root, path} {
		if !strings.HasPrefix(p, "/") || p == "/.." || strings.HasPrefix(p, "/../") ||
			strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
			return ""
		}
	}
	root, path = filepath.Clean(root), filepath.Clean(path)
	switch {
	case root == "/":
		return filepath.Join(point, path)
	case path == root:
		return point
	case strings.HasPrefix(path, root+"/"):
		return filepath.Join(point, path[len(root):])
	}
	return ""
}

// ownCgroup finds the directory of this process's cgroup in a hierarchy
// it is in (from self, /proc/self/cgroup's format) and that is mounted
// (from mountinfo): the unified one first, else the first v1 one in
// self's order whose directory exists. The directory is found through
// the mount's root (mountinfo's fourth field), and must be of the
// hierarchy's filesystem type (fsType, statfs's f_type: a directory of
// another filesystem mounted over it is refused). It returns "" when
// none is found, and whether the hierarchy is the unified one.
func ownCgroup(self, mountinfo []byte, fsType func(string) int64) (dir string, v2 bool) {
	mounts := cgroupMounts(mountinfo)
	for _, pass := range []bool{true, false} {
		for _, line := range strings.Split(strings.TrimSpace(string(self)), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			unified := parts[0] == "0" && parts[1] == ""
			if unified != pass || (!unified && parts[1] == "") {
				continue
			}
			for _, m := range mounts {
				if m.v2 != unified || (!unified && !containsAll(m.opts, strings.Split(parts[1], ","))) {
					continue
				}
				d := under(m.point, m.root, parts[2])
				if d == "" {
					continue
				}
				want := int64(unix.CGROUP_SUPER_MAGIC)
				if unified {
					want = unix.CGROUP2_SUPER_MAGIC
				}
				if st, err := os.Stat(filepath.Join(d, "cgroup.procs")); err == nil && st.Mode().IsRegular() && fsType(d) == want {
					return d, unified
				}
			}
		}
	}
	return "", false
}

// containsAll says whether opts holds every one of want.
func containsAll(opts, want []string) bool {
	for _, w := range want {
		if !slices.Contains(opts, w) {
			return false
		}
	}
	return true
}
