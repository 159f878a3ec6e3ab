package runtime

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
)

// cgroupFile reads file of container id's cgroup in controller's
// hierarchy (v1), or in its one cgroup (v2).
func (e *testEnv) cgroupFile(t testing.TB, id, controller, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.cgroupDir(t, id, controller), file))
	if err != nil {
		t.Fatalf("reading the cgroup: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// cgroupDir is container id's cgroup directory of controller (cgroup v1)
// or its unified one (v2).
func (e *testEnv) cgroupDir(t testing.TB, id, controller string) string {
	t.Helper()
	if cgroups.IsCgroup2UnifiedMode() {
		return filepath.Join("/sys/fs/cgroup", e.parent, id)
	}
	mnt, err := cgroups.FindCgroupMountpoint("", controller)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(mnt, e.parent, id)
}

// v2 picks the cgroup v2 or v1 name of a file.
func v2(a, b string) string {
	if cgroups.IsCgroup2UnifiedMode() {
		return a
	}
	return b
}

// A fork bomb under pids_limit 50 is held at 50 tasks, and the host can
// still fork.
func TestPidsLimitHoldsForkBomb(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("bomb() { bomb | bomb & }; bomb; sleep 1000")
	c.Resources = &Resources{PidsLimit: 50}
	e.start(t, c)
	if got := e.cgroupFile(t, c.ID, "pids", "pids.max"); got != "50" {
		t.Errorf("pids.max = %q, want 50", got)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		events := e.cgroupFile(t, c.ID, "pids", "pids.events")
		if n, _ := strconv.Atoi(strings.TrimPrefix(events, "max ")); n > 0 {
			break // forks were refused at the limit
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bomb never reached the limit: pids.events %q", events)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, _ := strconv.Atoi(e.cgroupFile(t, c.ID, "pids", "pids.current")); n > 50 {
		t.Errorf("pids.current = %d, above the limit", n)
	}
	if out, err := exec.Command("/bin/true").CombinedOutput(); err != nil {
		t.Fatalf("the host cannot fork: %v %s", err, out)
	}
	if err := e.rt.Kill(context.Background(), c.ID, 9); err != nil {
		t.Fatal(err)
	}
	e.waitExited(t, c.ID)
}

// A memory hog under mem_limit 32m is killed by the OOM killer: exit 137,
// State.OOMKilled, an oom event.
func TestMemLimitOOMKilled(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived")
	c.Resources = &Resources{Memory: 32 << 20}
	e.start(t, c)
	st := e.waitExited(t, c.ID)
	if st.ExitCode != 137 || !st.OOMKilled {
		t.Fatalf("state %+v, want exit 137 and OOMKilled", st)
	}
	if got := hookEvents(c.ID); !slices.Contains(got, "oom") {
		t.Errorf("events %q, want an oom", got)
	}
	// A later run that is not killed is not OOMKilled.
	c.Args, c.Resources = []string{"/bin/true"}, nil
	if err := e.rt.Start(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if st := e.waitExited(t, c.ID); st.OOMKilled || st.ExitCode != 0 {
		t.Errorf("second run: %+v, want exit 0, not OOMKilled", st)
	}
}

// cpus 0.5 is a CFS quota of 50 ms per 100 ms; the limits change in
// place in the running container, and a later start keeps the new ones.
func TestCPUQuotaAndUpdate(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("sleep 1000")
	c.Resources = &Resources{NanoCPUs: 5e8, Memory: 32 << 20, PidsLimit: 20}
	e.start(t, c)
	quota := func() string {
		if cgroups.IsCgroup2UnifiedMode() {
			return e.cgroupFile(t, c.ID, "cpu", "cpu.max")
		}
		return e.cgroupFile(t, c.ID, "cpu", "cpu.cfs_quota_us") + " " + e.cgroupFile(t, c.ID, "cpu", "cpu.cfs_period_us")
	}
	if got := quota(); got != "50000 100000" {
		t.Errorf("cpu quota = %q, want 50000 100000", got)
	}
	memFile := v2("memory.max", "memory.limit_in_bytes")
	if got := e.cgroupFile(t, c.ID, "memory", memFile); got != strconv.Itoa(32<<20) {
		t.Errorf("%s = %q, want 32m", memFile, got)
	}
	pid := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Pid != 0 }).Pid

	next := &Resources{NanoCPUs: 15e8, Memory: 64 << 20, CPUShares: 512}
	if err := e.rt.UpdateResources(context.Background(), c.ID, next); err != nil {
		t.Fatalf("UpdateResources: %v", err)
	}
	if got := quota(); got != "150000 100000" {
		t.Errorf("cpu quota after update = %q, want 150000 100000", got)
	}
	if got := e.cgroupFile(t, c.ID, "memory", memFile); got != strconv.Itoa(64<<20) {
		t.Errorf("%s after update = %q, want 64m", memFile, got)
	}
	if got := e.cgroupFile(t, c.ID, "pids", "pids.max"); got != "max" {
		t.Errorf("pids.max after the limit went = %q, want max", got)
	}
	if st, _ := e.rt.State(context.Background(), c.ID); st.Pid != pid {
		t.Errorf("the update restarted the container: pid %d, was %d", st.Pid, pid)
	}
	if err := e.rt.Stop(context.Background(), c.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	e.waitExited(t, c.ID)
	// Stopped: the next start has the new limits.
	if err := e.rt.UpdateResources(context.Background(), c.ID, &Resources{PidsLimit: 30}); err != nil {
		t.Fatalf("UpdateResources of a stopped container: %v", err)
	}
	if err := e.rt.Restart(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.cgroupFile(t, c.ID, "pids", "pids.max"); got != "30" {
		t.Errorf("pids.max after a restart = %q, want 30", got)
	}
}

// A weight the kernel's I/O controller cannot honour is refused at create.
func TestBlkioWeightRefusedWithoutSupport(t *testing.T) {
	e := newTestEnv(t)
	if host().BlkioWeight {
		t.Skip("this kernel has a blkio weight")
	}
	c := e.config("true")
	c.Resources = &Resources{BlkioWeight: 300}
	err := e.rt.Create(c)
	if err == nil || !strings.Contains(err.Error(), "blkio_config.weight") {
		t.Fatalf("Create = %v, want a blkio_config.weight error", err)
	}
}
