package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// Each start appends a line to a file of the writable layer, one of the
// volume, and the container's address to a third.
const bootStack = `
x-app: &app
  image: berth-e2e/busybox:1
  command: ["sh", "-c", "echo boot >> /boots; echo boot >> /data/$$HOSTNAME; ip -o -4 addr show eth0 | awk '{print $$4}' >> /addr; exec sleep 100000"]
  volumes: [data:/data]
  stop_signal: SIGKILL
services:
  always:
    <<: *app
    restart: always
    ports: ["127.0.0.1::8080"]
  unless:
    <<: *app
    restart: unless-stopped
  stopped:
    <<: *app
    restart: unless-stopped
  plain:
    <<: *app
volumes:
  data: {}
`

// simulateReboot does to the test's berth what a reboot does: every shim
// and container process killed, their cgroups gone, the bridges, network
// namespaces and nftables table of the test's root gone, the run root
// emptied. The state root stays. Nothing of other berths (other tests on
// the host) is touched.
func simulateReboot(t *testing.T, u *user) {
	t.Helper()
	var bridges []string
	for _, l := range strings.Split(u.run("network", "inspect", u.project+"_default"), "\n") {
		if _, b, ok := strings.Cut(l, `"com.docker.network.bridge.name": "`); ok {
			bridges = append(bridges, strings.TrimRight(b, `",`))
		}
	}
	if len(bridges) != 1 {
		t.Fatalf("the project's bridge: %v", bridges)
	}
	for _, pid := range pidsOf(t, " shim ", u.root) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	parent := engine.HostName(u.root)
	procs, _ := filepath.Glob("/sys/fs/cgroup/*/" + parent + "/*/cgroup.procs")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		alive := 0
		for _, f := range procs {
			b, _ := os.ReadFile(f)
			for _, p := range strings.Fields(string(b)) {
				pid, _ := strconv.Atoi(p)
				syscall.Kill(pid, syscall.SIGKILL)
				alive++
			}
		}
		if alive == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("container processes survive SIGKILL")
		}
	}
	for len(pidsOf(t, " shim ", u.root)) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	for _, f := range procs {
		if err := os.Remove(filepath.Dir(f)); err != nil && !os.IsNotExist(err) {
			t.Fatalf("removing a container cgroup: %v", err)
		}
	}
	testutil.RemoveCgroupParent(t, parent)
	// Network namespaces are bind mounts under the run root.
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], u.runRoot+"/") {
			if err := syscall.Unmount(f[4], syscall.MNT_DETACH); err != nil {
				t.Fatalf("unmounting %s: %v", f[4], err)
			}
		}
	}
	for _, b := range bridges {
		if out, err := exec.Command("ip", "link", "del", b).CombinedOutput(); err != nil {
			t.Fatalf("deleting bridge %s: %v %s", b, err, out)
		}
	}
	for _, table := range testutil.Snapshot(t)["nftables"] {
		if strings.HasSuffix(table, " "+parent) {
			if out, err := exec.Command("nft", "delete "+table).CombinedOutput(); err != nil {
				t.Fatalf("nft delete %s: %v %s", table, err, out)
			}
		}
	}
	if err := os.RemoveAll(u.runRoot); err != nil {
		t.Fatal(err)
	}
}

func TestBootAfterReboot(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, bootStack, "-v", "-t", "0")
	u.run("up", "-d", "--wait")
	u.run("stop", "stopped")
	layer := func(svc, file string) string {
		b, _ := os.ReadFile(filepath.Join(u.root, "containers", u.project+"-"+svc+"-1", "upper", file))
		return string(b)
	}
	addr := map[string]string{}
	for _, svc := range []string{"always", "unless", "stopped", "plain"} {
		addr[svc] = layer(svc, "addr")
		if layer(svc, "boots") != "boot\n" || !strings.Contains(addr[svc], "/") {
			t.Fatalf("%s before the reboot: boots %q, addr %q", svc, layer(svc, "boots"), addr[svc])
		}
	}

	simulateReboot(t, u)
	if out := u.run("ps", "-a"); strings.Contains(out, "Up ") {
		t.Fatalf("ps after the reboot:\n%s", out)
	}
	t.Logf("boot:\n%s", u.run("boot"))
	ps := u.run("ps", "-a")
	for svc, up := range map[string]bool{"always": true, "unless": true, "stopped": false, "plain": false} {
		line := ""
		for _, l := range strings.Split(ps, "\n") {
			if strings.Contains(l, u.project+"-"+svc+"-1") {
				line = l
			}
		}
		if strings.Contains(line, " Up ") != up {
			t.Errorf("%s after boot (want running: %v): %q", svc, up, line)
		}
		if up && (layer(svc, "boots") != "boot\nboot\n" || layer(svc, "addr") != addr[svc]+addr[svc]) {
			t.Errorf("%s came back without its writable layer or address: boots %q, addr %q (was %q)", svc, layer(svc, "boots"), layer(svc, "addr"), addr[svc])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// The next up keeps every container: it restores and starts the two
	// left down, recreating nothing.
	plan := u.run("plan")
	t.Logf("plan after boot:\n%s", plan)
	if strings.Contains(plan, "remove container") || strings.Contains(plan, "create container") || strings.Count(plan, "restore container") != 2 {
		t.Fatalf("plan after boot:\n%s", plan)
	}
	u.run("up", "-d", "--wait")
	for _, svc := range []string{"always", "unless", "stopped", "plain"} {
		if layer(svc, "boots") != "boot\nboot\n" || layer(svc, "addr") != addr[svc]+addr[svc] {
			t.Errorf("%s after up: boots %q, addr %q (was %q)", svc, layer(svc, "boots"), layer(svc, "addr"), addr[svc])
		}
	}
	data, _ := os.ReadDir(filepath.Join(u.root, "volumes", u.project+"_data", "_data"))
	if len(data) != 4 {
		t.Errorf("the volume holds %d files, want 4", len(data))
	}
	if out := u.run("plan"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("up did not converge:\n%s", out)
	}
	if out := u.run("port", "always", "8080"); !strings.Contains(out, "127.0.0.1:") {
		t.Fatalf("port after boot: %q", out)
	}
}

// TestBootCrashSweep kills berth boot after each of its host changes; the
// next boot brings the same containers back, and down -v leaves nothing.
func TestBootCrashSweep(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, bootStack, "-v", "-t", "0")
	slate := u.cleanSlate()
	n := 1
	for ; ; n++ {
		u.run("up", "-d")
		u.run("stop", "stopped")
		simulateReboot(t, u)
		killed := u.killedAt(n, "boot")
		u.run("boot")
		ps := u.run("ps")
		if strings.Count(ps, " Up ") != 2 || !strings.Contains(ps, u.project+"-always-1") || !strings.Contains(ps, u.project+"-unless-1") {
			t.Fatalf("boot killed at %d, booted again:\n%s", n, ps)
		}
		if plan := u.run("plan"); strings.Contains(plan, "remove container") || strings.Count(plan, "restore container") != 2 {
			t.Fatalf("boot killed at %d: plan after the next boot:\n%s", n, plan)
		}
		u.run("down", "-v", "-t", "0")
		if left := slate.residue(u); len(left) > 0 {
			t.Fatalf("boot killed at %d: down -v left %v", n, left)
		}
		if !killed {
			break
		}
	}
	if n == 1 {
		t.Fatal("the hook killed nothing")
	}
	t.Logf("boot: %d kill points, each booted again with zero residue after down -v", n-1)
}

// A stopped container made when berth kept its /etc files on a tmpfs
// under the run root (its runtime configuration binds them from there)
// starts after a reboot: the restore makes that tmpfs and its files again.
func TestBootRestoresLegacyEtcFiles(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sleep", "100000"]
    stop_signal: SIGKILL
`, "-v", "-t", "0")
	u.run("up", "-d")
	u.run("stop", "app")
	name := u.project + "-app-1"
	cfg := filepath.Join(u.root, "containers", name, "config.json")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := filepath.Join(u.root, "etc", name) + "/"
	legacy := filepath.Join(u.runRoot, "etc", name) + "/"
	if strings.Count(string(b), now) != 3 {
		t.Fatalf("the runtime configuration binds %d files from %s, want 3:\n%s", strings.Count(string(b), now), now, b)
	}
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(string(b), now, legacy)), 0o600); err != nil {
		t.Fatal(err)
	}
	simulateReboot(t, u)
	u.run("up", "-d")
	if got := u.run("exec", "app", "cat", "/etc/hostname"); strings.TrimSpace(got) == "" {
		t.Fatalf("/etc/hostname after the restore: %q", got)
	}
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); !strings.Contains(string(mi), " "+strings.TrimSuffix(legacy, "/")+" ") {
		t.Fatalf("%s is no mount point after the restore", legacy)
	}
	u.run("down", "-v", "-t", "0")
	if _, err := os.Stat(strings.TrimSuffix(legacy, "/")); !os.IsNotExist(err) {
		t.Fatalf("down left %s: %v", legacy, err)
	}
}
