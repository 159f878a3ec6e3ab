package runtime

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/lifecycle"
	"golang.org/x/sys/unix"
)

// testEnv is one root test's runtime with private state and cgroup parent.
type testEnv struct {
	rt     *Runtime
	root   string
	run    string
	parent string
	layer  string
}

// newTestEnv gates on root, checks leaks, and makes a runtime whose state
// and cgroups are private to the test and removed after it.
func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	base, err := os.MkdirTemp("", "brt")
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{
		root:   filepath.Join(base, "lib"),
		run:    filepath.Join(base, "run"),
		parent: fmt.Sprintf("berth-t%08x", rand.Uint32()),
		layer:  testutil.BusyboxRootfs(t),
	}
	e.rt = New(e.root, e.run, WithCgroupParent(e.parent))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ids, _ := e.rt.List()
		for _, id := range ids {
			if err := e.rt.Remove(ctx, id); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		_ = e.rt.Close()
		waitGone(t, e.root)
		removeCgroupParent(t, e.parent)
		os.RemoveAll(base)
	})
	return e
}

// waitGone waits until no process runs with root among its arguments:
// the starter and its reaper end once their work is done.
func waitGone(t testing.TB, root string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := ""
		dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, d := range dirs {
			if data, err := os.ReadFile(d); err == nil && strings.Contains(string(data), "\x00"+root+"\x00") {
				left = strings.ReplaceAll(string(data), "\x00", " ")
			}
		}
		if left == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("still running after the test: %s", left)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeCgroupParent removes the test's cgroup parent in every hierarchy;
// libcontainer removes only the containers' own cgroups.
func removeCgroupParent(t testing.TB, parent string) {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + parent)
	if d := "/sys/fs/cgroup/" + parent; dirExists(d) {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.Remove(d); err != nil {
			t.Errorf("removing cgroup parent: %v", err)
		}
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// config is a busybox container running sh -c script.
func (e *testEnv) config(script string) Config {
	return Config{
		ID:     fmt.Sprintf("t-%08x", rand.Uint32()),
		Layers: []string{e.layer},
		Args:   []string{"/bin/sh", "-c", script},
		Env:    []string{"PATH=/bin"},
	}
}

func (e *testEnv) start(t testing.TB, c Config) {
	t.Helper()
	if err := e.rt.Start(context.Background(), c); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// waitFor polls State until cond holds, failing after a generous bound
// (a hang guard, not a timing assertion).
func (e *testEnv) waitFor(t testing.TB, id string, what string, cond func(State) bool) State {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := e.rt.State(context.Background(), id)
		if err != nil {
			t.Fatalf("State: %v", err)
		}
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s never %s; last state %+v", id, what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitExited waits until the container exited and its shim is gone.
func (e *testEnv) waitExited(t testing.TB, id string) State {
	t.Helper()
	return e.waitFor(t, id, "exited", func(s State) bool { return s.Status == lifecycle.Exited && !s.Shim })
}

// logLines reads the whole log of id as "stream: text" strings.
func (e *testEnv) logLines(t testing.TB, id string, o LogOptions) []string {
	t.Helper()
	var out []string
	err := ReadLogs(context.Background(), e.rt.LogPath(id), o, func(l LogLine) error {
		out = append(out, l.Stream+": "+strings.TrimSuffix(l.Text, "\n"))
		return nil
	})
	if err != nil {
		t.Fatalf("ReadLogs: %v", err)
	}
	return out
}

// hookCodes lists the exit codes the exit hook recorded for id.
func hookCodes(t testing.TB, id string) []string {
	data, err := os.ReadFile(filepath.Join(os.Getenv(hookDirEnv), id))
	if err != nil {
		return nil
	}
	var codes []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		codes = append(codes, strings.Fields(l)[0])
	}
	return codes
}

// waitLog waits until the log of id has at least n lines.
func (e *testEnv) waitLog(t testing.TB, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(e.logLines(t, id, LogOptions{Tail: -1})) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log of %s never reached %d lines", id, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newNetNS makes a network namespace kept alive by a bind mount on a file
// under the test's temp dir, removed after the test.
func newNetNS(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error)
	go func() {
		goruntime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, "")
		// Back to the original namespace; if that fails the thread stays
		// locked and ends with this goroutine, so nothing else runs in it.
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			goruntime.UnlockOSThread()
		}
	}()
	if err := <-errc; err != nil {
		t.Fatalf("making a netns: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting netns: %v", err)
		}
	})
	return path
}
