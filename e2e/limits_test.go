package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/opencontainers/cgroups"
)

// cgroupFile reads file of container name's cgroup, in controller's
// hierarchy on cgroup v1.
func (u *user) cgroupFile(name, controller, file string) string {
	u.t.Helper()
	dir := filepath.Join("/sys/fs/cgroup", engine.HostName(u.root), name)
	if !cgroups.IsCgroup2UnifiedMode() {
		mnt, err := cgroups.FindCgroupMountpoint("", controller)
		if err != nil {
			u.t.Fatal(err)
		}
		dir = filepath.Join(mnt, engine.HostName(u.root), name)
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		u.t.Fatalf("reading the cgroup: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// cpuQuota is "quota period" of container name's CFS bandwidth.
func (u *user) cpuQuota(name string) string {
	if cgroups.IsCgroup2UnifiedMode() {
		return u.cgroupFile(name, "cpu", "cpu.max")
	}
	return u.cgroupFile(name, "cpu", "cpu.cfs_quota_us") + " " + u.cgroupFile(name, "cpu", "cpu.cfs_period_us")
}

// until polls cond until it holds, failing after a generous bound.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const limitsStack = `
services:
  hog:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "x=$$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"]
    mem_limit: 32m
  bomb:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 1000"]
    pids_limit: 50
    stop_grace_period: 1s
  cpu:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    deploy:
      resources:
        limits:
          cpus: "0.5"
    stop_grace_period: 1s
`

// A memory hog under mem_limit is OOM-killed and reported, a fork bomb
// under pids_limit is held there while the host still forks, cpus is a
// CFS quota; a changed limit is applied in place.
func TestLimits(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, limitsStack, "-t", "0")
	u.run("up", "-d")
	hog, bomb, cpu := u.project+"-hog-1", u.project+"-bomb-1", u.project+"-cpu-1"

	until(t, "saw the hog exit", func() bool {
		return strings.TrimSpace(u.run("inspect", "-f", "{{.State.Status}}", hog)) == "exited"
	})
	if got := strings.TrimSpace(u.run("inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", hog)); got != "true 137" {
		t.Errorf("hog: OOMKilled and exit code %q, want true 137", got)
	}
	if ps := u.run("ps", "-a", "hog"); !strings.Contains(ps, "Exited (137)") {
		t.Errorf("ps:\n%s", ps)
	}
	if ev := u.run("events", "--json", "--since", "1h", "--until", time.Now().Add(time.Second).Format(time.RFC3339Nano), "hog"); !strings.Contains(ev, `"action":"oom"`) {
		t.Errorf("no oom event:\n%s", ev)
	}

	if got := u.cgroupFile(bomb, "pids", "pids.max"); got != "50" {
		t.Errorf("pids.max = %q", got)
	}
	until(t, "saw the bomb reach its limit", func() bool {
		n, _ := strconv.Atoi(strings.TrimPrefix(u.cgroupFile(bomb, "pids", "pids.events"), "max "))
		return n > 0
	})
	if n, _ := strconv.Atoi(u.cgroupFile(bomb, "pids", "pids.current")); n > 50 {
		t.Errorf("pids.current = %d", n)
	}
	if out, err := exec.Command("/bin/true").CombinedOutput(); err != nil {
		t.Fatalf("the host cannot fork: %v %s", err, out)
	}
	u.run("kill", "bomb")

	if got := u.cpuQuota(cpu); got != "50000 100000" {
		t.Errorf("cpus 0.5: quota %q, want 50000 100000", got)
	}
	pid := u.run("inspect", "-f", "{{.State.Pid}}", cpu)
	if err := os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(strings.Replace(limitsStack, `cpus: "0.5"`, `cpus: "1.5"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := u.run("plan")
	if !strings.Contains(plan, "~ update limits of "+cpu+" (resources.nano_cpus changed)") || strings.Contains(plan, "recreate") && !strings.Contains(plan, "0 to recreate") {
		t.Fatalf("plan:\n%s", plan)
	}
	u.run("up", "-d", "cpu")
	if got := u.cpuQuota(cpu); got != "150000 100000" {
		t.Errorf("cpus 1.5: quota %q, want 150000 100000", got)
	}
	if now := u.run("inspect", "-f", "{{.State.Pid}}", cpu); now != pid {
		t.Errorf("the update restarted the container: pid %s, was %s", now, pid)
	}
	if got := strings.TrimSpace(u.run("inspect", "-f", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}", cpu)); got != "1500000000 0" {
		t.Errorf("inspect HostConfig NanoCpus and Memory %q", got)
	}
	if got := strings.TrimSpace(u.run("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}", hog)); got != "33554432 67108864" {
		t.Errorf("inspect HostConfig Memory and MemorySwap %q", got)
	}
	if ev := u.run("events", "--json", "--since", "1h", "--until", time.Now().Add(time.Second).Format(time.RFC3339Nano), "cpu"); !strings.Contains(ev, `"action":"update"`) {
		t.Errorf("no update event:\n%s", ev)
	}
	if plan := u.run("plan", "cpu"); !strings.Contains(plan, "Nothing to do") {
		t.Errorf("plan after the update:\n%s", plan)
	}
}
