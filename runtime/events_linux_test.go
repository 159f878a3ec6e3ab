package runtime

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/opencontainers/cgroups"
)

// recordEvent is the event hook of the test shims: one line per event,
// "action k=v ...", in a file per container beside the exit hook's. A
// start waits while a test holds it (holdStart).
func recordEvent(_, id, action string, attrs map[string]string, _ time.Time) {
	if action == "start" {
		awaitStartRelease(id)
	}
	f, err := os.OpenFile(filepath.Join(os.Getenv(hookDirEnv), id+".events"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	line := action
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if k != "execDuration" {
			line += " " + k + "=" + attrs[k]
		}
	}
	fmt.Fprintln(f, line)
}

// holdStart makes the shim of container id wait in its event hook when
// it records the container's start (before its ready report and before
// it watches the run) until release is called, or for 30 s at most.
func holdStart(id string) (release func()) {
	name := filepath.Join(os.Getenv(hookDirEnv), id+".hold")
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		panic(err)
	}
	return func() { os.Remove(name) }
}

// awaitStartRelease is the shim's side of holdStart.
func awaitStartRelease(id string) {
	name := filepath.Join(os.Getenv(hookDirEnv), id+".hold")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(name); err != nil {
			return
		}
	}
}

// hookEvents lists the events the event hook recorded for id.
func hookEvents(id string) []string {
	data, err := os.ReadFile(filepath.Join(os.Getenv(hookDirEnv), id+".events"))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// The shim reports its container's life as Docker's daemon does: start,
// health changes, pause and unpause, kill with its signal, die with the
// exit code, stop once down.
func TestShimEvents(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	c := e.config("trap 'exit 4' TERM; while true; do sleep 0.1; done")
	c.Health = &Health{Test: []string{"true"}, Interval: 50 * time.Millisecond}
	e.start(t, c)
	e.waitFor(t, c.ID, "healthy", func(s State) bool { return s.Health == HealthHealthy })
	if err := e.rt.Pause(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Resume(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Stop(ctx, c.ID, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	e.waitExited(t, c.ID)
	want := []string{"start", "health_status: healthy", "pause", "unpause", "kill signal=15", "die exitCode=4", "stop"}
	if got := hookEvents(c.ID); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
}

// A container the kernel's OOM killer ends has an "oom" event and dies
// with 137.
func TestShimOOMEvent(t *testing.T) { testShimOOMEvent(t, newTestEnv(t), nil) }

// testShimOOMEvent is TestShimOOMEvent, with running called once the
// container runs, before it allocates.
func testShimOOMEvent(t *testing.T, e *testEnv, running func(State)) {
	sig := t.TempDir()
	c := e.config("while [ ! -e /sig/go ]; do sleep 0.05; done; x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo survived")
	c.Mounts = append(c.Mounts, Mount{Type: "bind", Source: sig, Target: "/sig"})
	e.start(t, c)
	// The memory controller's limit (swap included), set from outside as
	// a mem_limit would be, before the container allocates.
	dir, limits := "/sys/fs/cgroup/memory/"+e.parent+"/"+c.ID, map[string]string{"memory.limit_in_bytes": "8388608", "memory.memsw.limit_in_bytes": "8388608"}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		dir, limits = "/sys/fs/cgroup/"+e.parent+"/"+c.ID, map[string]string{"memory.max": "8388608", "memory.swap.max": "0"}
	}
	for _, f := range slices.Sorted(maps.Keys(limits)) {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(limits[f]), 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatalf("setting %s: %v", f, err)
		}
	}
	if running != nil {
		running(e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running }))
	}
	if err := os.WriteFile(filepath.Join(sig, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitExited(t, c.ID)
	got := hookEvents(c.ID)
	t.Logf("events: %q", got)
	if !slices.Contains(got, "oom") || !slices.Contains(got, "die exitCode=137") || got[0] != "start" {
		t.Fatalf("events %q, want start, oom and die exitCode=137", got)
	}
}

// An OOM kill before the shim watches the run (a process that fills its
// limit at once, while the shim still records its start) is reported at
// the exit: one oom event, before the die.
func TestShimOOMBeforeItsWatch(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived")
	c.Resources = &Resources{Memory: 32 << 20}
	release := holdStart(c.ID)
	defer release()
	started := make(chan error, 1)
	go func() { started <- e.rt.Start(context.Background(), c) }()
	// Its run's cgroup, keyed as libcontainer's state keys it (v1 first).
	paths := map[string]string{"": e.cgroupDir(t, c.ID, "memory")}
	if !cgroups.IsCgroup2UnifiedMode() {
		paths = map[string]string{"memory": paths[""]}
	}
	for deadline := time.Now().Add(30 * time.Second); !oomKilledIn(paths); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the process was not OOM-killed while the shim recorded its start")
		}
	}
	release()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if st := e.waitExited(t, c.ID); st.ExitCode != 137 || !st.OOMKilled {
		t.Fatalf("state %+v, want exit 137 and OOMKilled", st)
	}
	got := hookEvents(c.ID)
	oom, die := slices.Index(got, "oom"), slices.Index(got, "die exitCode=137")
	if n := len(slices.DeleteFunc(slices.Clone(got), func(ev string) bool { return ev != "oom" })); n != 1 || die < 0 || oom > die {
		t.Fatalf("events %q, want one oom, before die exitCode=137", got)
	}
}
