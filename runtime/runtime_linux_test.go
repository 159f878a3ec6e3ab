package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
)

func TestLogsAndExit(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("echo hello; echo err >&2")
	e.start(t, c)
	st := e.waitExited(t, c.ID)
	if st.ExitCode != 0 || st.FinishedAt.IsZero() {
		t.Errorf("state = %+v, want exited 0 with a finish time", st)
	}
	got := e.logLines(t, c.ID, LogOptions{Tail: -1})
	slices.Sort(got) // the two pipes are copied concurrently
	want := []string{"stderr: err", "stdout: hello"}
	if !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
	if err := e.rt.Remove(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.rt.State(context.Background(), c.ID); st.Status != lifecycle.Missing {
		t.Errorf("after Remove: %+v", st)
	}
}

func TestExitCodeAndHook(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("exit 3")
	e.start(t, c)
	if st := e.waitExited(t, c.ID); st.ExitCode != 3 {
		t.Errorf("exit code = %d, want 3", st.ExitCode)
	}
	if got := hookCodes(t, c.ID); !slices.Equal(got, []string{"3"}) {
		t.Errorf("exit hook saw %q, want [3]", got)
	}
}

func TestStop(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		name    string
		script  string
		timeout time.Duration
		want    int
	}{
		// Killed by the timeout this would exit 137: 7 proves TERM was handled.
		{"graceful", `trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done`, time.Minute, 7},
		{"ignores TERM", `trap "" TERM; echo ready; while :; do sleep 0.05; done`, 300 * time.Millisecond, 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.config(tc.script)
			e.start(t, c)
			// A signal that comes before the trap is set is lost on pid 1.
			e.waitLog(t, c.ID, 1)
			if err := e.rt.Stop(context.Background(), c.ID, tc.timeout); err != nil {
				t.Fatal(err)
			}
			st, err := e.rt.State(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != lifecycle.Exited || st.Shim || st.ExitCode != tc.want {
				t.Errorf("after Stop: %+v, want exited %d without shim", st, tc.want)
			}
		})
	}
}

func TestUserEnvCwdHostnameMounts(t *testing.T) {
	e := newTestEnv(t)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "f"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("nobody", func(t *testing.T) {
		c := e.config(`id -u; id -g; echo "$HOME"`)
		c.User = "nobody"
		e.start(t, c)
		e.waitExited(t, c.ID)
		want := []string{"stdout: 65534", "stdout: 65534", "stdout: /home"}
		if got := e.logLines(t, c.ID, LogOptions{Tail: -1}); !slices.Equal(got, want) {
			t.Errorf("log = %q, want %q", got, want)
		}
	})
	t.Run("env cwd hostname mounts", func(t *testing.T) {
		c := e.config(`echo "$FOO"; pwd; hostname; cat /proc/sys/kernel/domainname; echo "$HOME"; cat /data/f
touch /data/x 2>/dev/null && echo data-writable || echo data-ro
echo hi > /scratch/y && cat /scratch/y
grep -q "^tmpfs /scratch tmpfs" /proc/mounts && echo scratch-tmpfs`)
		c.Env = append(c.Env, "FOO=bar baz")
		c.Cwd = "/var"
		c.Hostname = "box1"
		c.Domainname = "example.test"
		c.Mounts = []Mount{
			{Type: "bind", Source: data, Target: "/data", ReadOnly: true},
			{Type: "tmpfs", Target: "/scratch"},
		}
		e.start(t, c)
		if st := e.waitExited(t, c.ID); st.ExitCode != 0 {
			t.Errorf("exit code %d", st.ExitCode)
		}
		want := []string{"stdout: bar baz", "stdout: /var", "stdout: box1", "stdout: example.test", "stdout: /root", "stdout: from-host",
			"stdout: data-ro", "stdout: hi", "stdout: scratch-tmpfs"}
		if got := e.logLines(t, c.ID, LogOptions{Tail: -1}); !slices.Equal(got, want) {
			t.Errorf("log = %q, want %q", got, want)
		}
		if _, err := os.Stat(filepath.Join(data, "x")); err == nil {
			t.Error("the read-only bind mount was written")
		}
	})
}

// shimOf returns the pid of the parent of pid.
func parentOf(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command's closing parenthesis: state ppid ...
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	return ppid
}

func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(data), "\x00", " ")
}

// processGone reports whether pid is gone; a zombie that its reaper has
// not collected yet counts as gone.
func processGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return f[0] == "Z" || f[0] == "X"
}

func TestOutlivesRuntime(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("exec sleep 1000")
	e.start(t, c)
	e.rt = nil // the container must not depend on the Runtime value

	rt := New(e.root, e.run, WithCgroupParent(e.parent))
	e.rt = rt
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	if st.Pid <= 0 || !st.Shim || st.StartedAt.IsZero() {
		t.Fatalf("state = %+v", st)
	}
	if shim := parentOf(t, st.Pid); !strings.HasPrefix(cmdline(shim), "berth shim "+c.ID) {
		t.Errorf("parent of the container init is %q, want its shim", cmdline(shim))
	}
	if err := rt.Remove(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	if !processGone(st.Pid) {
		t.Errorf("init %d still alive after Remove", st.Pid)
	}
	if ids, _ := rt.List(); len(ids) != 0 {
		t.Errorf("List after Remove = %q", ids)
	}
}

func TestShimKilled(t *testing.T) {
	e := newTestEnv(t)
	for _, end := range []string{"remove", "kill then remove"} {
		t.Run(end, func(t *testing.T) {
			c := e.config("exec sleep 1000")
			e.start(t, c)
			st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
			shim := parentOf(t, st.Pid)
			if err := syscall.Kill(shim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			st2 := e.waitFor(t, c.ID, "without shim", func(s State) bool { return !s.Shim })
			if st2.Status != lifecycle.Running || st2.Pid != st.Pid {
				t.Errorf("init alive, shim killed: state = %+v, want running pid %d", st2, st.Pid)
			}
			if end == "kill then remove" {
				if err := e.rt.Kill(context.Background(), c.ID, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				st3 := e.waitFor(t, c.ID, "exited", func(s State) bool { return s.Status != lifecycle.Running })
				if st3.Status != lifecycle.Exited || st3.ExitCode != -1 {
					t.Errorf("init killed without shim: state = %+v, want exited -1 (unobserved)", st3)
				}
			}
			if err := e.rt.Remove(context.Background(), c.ID); err != nil {
				t.Fatal(err)
			}
			if !processGone(st.Pid) {
				t.Errorf("init %d still alive after Remove", st.Pid)
			}
			if err := e.rt.Remove(context.Background(), c.ID); err != nil {
				t.Errorf("second Remove: %v", err)
			}
		})
	}
}

func TestReadLogsTailFollow(t *testing.T) {
	e := newTestEnv(t)
	sig := t.TempDir()
	c := e.config(`for i in 1 2 3 4 5; do echo line$i; done
while [ ! -e /sig/go ]; do sleep 0.02; done; echo late`)
	c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
	e.start(t, c)
	e.waitLog(t, c.ID, 5)
	followed := make(chan []string)
	go func() {
		var got []string
		err := ReadLogs(context.Background(), e.rt.LogPath(c.ID), LogOptions{Follow: true, Tail: 2}, func(l LogLine) error {
			got = append(got, strings.TrimSpace(l.Text))
			if len(got) == 2 { // the tail is out: let the container go on
				return os.WriteFile(filepath.Join(sig, "go"), nil, 0o644)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		followed <- got
	}()
	if got, want := <-followed, []string{"line4", "line5", "late"}; !slices.Equal(got, want) {
		t.Errorf("follow with tail 2 = %q, want %q", got, want)
	}
	e.waitExited(t, c.ID)
	if got, want := e.logLines(t, c.ID, LogOptions{Tail: 2}), []string{"stdout: line5", "stdout: late"}; !slices.Equal(got, want) {
		t.Errorf("tail 2 = %q, want %q", got, want)
	}
}

func TestRestartOnFailure(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("echo run; exit 1")
	c.Restart = "on-failure:2"
	e.start(t, c)
	st := e.waitExited(t, c.ID)
	if st.ExitCode != 1 || st.Restarts != 2 || st.Stopped {
		t.Errorf("state = %+v, want exit 1 after 2 restarts", st)
	}
	if got := hookCodes(t, c.ID); !slices.Equal(got, []string{"1", "1", "1"}) {
		t.Errorf("exit hook saw %q, want three exits with 1", got)
	}
	if got := e.logLines(t, c.ID, LogOptions{Tail: -1}); len(got) != 3 {
		t.Errorf("log = %q, want three runs", got)
	}
}

func TestStopPreventsRestart(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("exec sleep 1000")
	c.Restart = "always"
	e.start(t, c)
	if err := e.rt.Stop(context.Background(), c.ID, 0); err != nil {
		t.Fatal(err)
	}
	st, err := e.rt.State(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != lifecycle.Exited || st.Restarts != 0 || st.ExitCode != 137 || !st.Stopped {
		t.Errorf("state after Stop of an always-restarting container = %+v", st)
	}
}

func TestStartErrors(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("")
	c.Args = []string{"/no/such/binary"}
	err := e.rt.Start(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "/no/such/binary") {
		t.Errorf("Start of a missing binary: %v", err)
	}
	c2 := e.config("exec sleep 1000")
	e.start(t, c2)
	if err := e.rt.Start(context.Background(), c2); !errors.Is(err, ErrRunning) {
		t.Errorf("second Start: %v, want ErrRunning", err)
	}
	bad := c2
	bad.ID = "bad/id"
	if err := e.rt.Start(context.Background(), bad); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Start with a bad id: %v, want ErrInvalidConfig", err)
	}
	if err := e.rt.Kill(context.Background(), "nope", syscall.SIGTERM); !errors.Is(err, ErrNotFound) {
		t.Errorf("Kill of a missing container: %v, want ErrNotFound", err)
	}
}

func TestRestartAfterExit(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("cat /count 2>/dev/null; echo x >> /count")
	e.start(t, c)
	e.waitExited(t, c.ID)
	e.start(t, c) // like docker start: same upper layer
	e.waitExited(t, c.ID)
	if got, want := e.logLines(t, c.ID, LogOptions{Tail: -1}), []string{"stdout: x"}; !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
}

func BenchmarkStartStop(b *testing.B) {
	e := newTestEnv(b)
	ctx := context.Background()
	c := e.config("")
	c.Args = []string{"/bin/sleep", "1000"}
	var start, remove time.Duration
	for i := 0; b.Loop(); i++ {
		c.ID = fmt.Sprintf("bench-%d", i)
		t0 := time.Now()
		if err := e.rt.Start(ctx, c); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := e.rt.Remove(ctx, c.ID); err != nil {
			b.Fatal(err)
		}
		start += t1.Sub(t0)
		remove += time.Since(t1)
	}
	b.ReportMetric(float64(start.Milliseconds())/float64(b.N), "ms/start")
	b.ReportMetric(float64(remove.Milliseconds())/float64(b.N), "ms/remove")
}

func TestNetNSAndReadOnlyRootfs(t *testing.T) {
	e := newTestEnv(t)
	nsPath := newNetNS(t)
	nsInode := func(path string) string {
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("net:[%d]", st.Ino)
	}
	host := nsInode("/proc/self/ns/net")
	named := nsInode(nsPath)
	seen := map[string]string{}
	for _, netns := range []string{"", NetNSHost, nsPath} {
		c := e.config(`readlink /proc/self/ns/net; touch /rootfs-write 2>/dev/null && echo rw || echo ro`)
		c.NetNS = netns
		c.ReadOnlyRootfs = true
		e.start(t, c)
		e.waitExited(t, c.ID)
		got := e.logLines(t, c.ID, LogOptions{Tail: -1})
		if len(got) != 2 || got[1] != "stdout: ro" {
			t.Fatalf("netns %q: log %q, want the netns and a read-only rootfs", netns, got)
		}
		seen[netns] = strings.TrimPrefix(got[0], "stdout: ")
	}
	if seen[NetNSHost] != host {
		t.Errorf("host netns: container in %s, host is %s", seen[NetNSHost], host)
	}
	if seen[nsPath] != named {
		t.Errorf("joined netns: container in %s, want %s", seen[nsPath], named)
	}
	if fresh := seen[""]; fresh == host || fresh == named {
		t.Errorf("fresh netns %s is not fresh", fresh)
	}
}
