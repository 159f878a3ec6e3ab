package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
)

// mountNS is the mount namespace pid is in.
func mountNS(pid int) string {
	ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	return ns
}

// spawnMountNS is the mount namespace a shim is spawned from: a running
// thread's. The process's (its main thread's) may be a private one an
// earlier test's goroutine left the main thread parked in.
func spawnMountNS(t *testing.T) string {
	t.Helper()
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	ns, err := os.Readlink("/proc/thread-self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// waitMountNS waits until pid is in the mount namespace ns.
func waitMountNS(t *testing.T, pid int, ns string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for mountNS(pid) != ns {
		if time.Now().After(deadline) {
			t.Fatalf("shim %d is in mount namespace %s, want the host's %s", pid, mountNS(pid), ns)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Once its container runs, a shim leaves its own mount namespace (a copy
// of the host's mount table) for the one it was spawned from: only the
// container's own namespace has its root filesystem. A restart, from an
// idle shim woken by the exit, mounts it again for the new run, which
// sees its filesystem and binds; the shim stays out; a stop leaves the
// overlay mounted nowhere.
func TestShimLeavesItsMountNamespace(t *testing.T) {
	bin := withIdle(t)
	e := newTestEnv(t)
	sig := t.TempDir()
	c := e.config(`if [ -e /sig/exit ]; then echo first; while [ ! -e /sig/go ]; do sleep 0.05; done; rm /sig/exit; exit 3; fi; echo second; cat /sig/word; exec sleep 1000`)
	c.Restart = "on-failure"
	c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
	for _, f := range []string{"exit", "word"} {
		if err := os.WriteFile(filepath.Join(sig, f), []byte(f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	host := spawnMountNS(t)
	p := e.rt.paths(c.ID)
	e.start(t, c)
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	shim := parentOf(t, st.Pid)
	waitMountNS(t, shim, host)
	// The mount namespaces the root filesystem is mounted in.
	holders := func() []string {
		var ns []string
		for _, pid := range mountedAnywhere(t, p) {
			n, _ := strconv.Atoi(pid)
			if m := mountNS(n); m != "" && !slices.Contains(ns, m) {
				ns = append(ns, m)
			}
		}
		return ns
	}
	if got, want := holders(), []string{mountNS(st.Pid)}; !slices.Equal(got, want) {
		t.Errorf("the root filesystem is mounted in namespaces %v, want only the init's %v", got, want)
	}
	waitExe(t, shim, bin, true) // idle: the exit wakes it
	if err := os.WriteFile(filepath.Join(sig, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st2 := e.waitFor(t, c.ID, "restarted", func(s State) bool { return s.Status == lifecycle.Running && s.Restarts == 1 })
	if parentOf(t, st2.Pid) != shim {
		t.Fatalf("the restarted init %d is not the shim's (%d) child", st2.Pid, shim)
	}
	e.waitLog(t, c.ID, 3)
	if got, want := e.logLines(t, c.ID, LogOptions{Tail: -1}), []string{"stdout: first", "stdout: second", "stdout: word"}; !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
	if ns := mountNS(shim); ns != host {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/ns/mnt", shim))
		var per []string
		for _, f := range tasks {
			l, _ := os.Readlink(f)
			per = append(per, f+"="+l)
		}
		log, _ := os.ReadFile(p.shimLog)
		t.Errorf("after the restart the shim is in mount namespace %s, want the host's %s; threads %v; shim log %s", ns, host, per, log)
	}
	if got, want := holders(), []string{mountNS(st2.Pid)}; !slices.Equal(got, want) {
		t.Errorf("after the restart the root filesystem is mounted in namespaces %v, want only the init's %v", got, want)
	}
	if err := e.rt.Stop(context.Background(), c.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	if got := holders(); len(got) > 0 {
		t.Errorf("after the stop the root filesystem is mounted in namespaces %v", got)
	}
}
