package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	berthruntime "github.com/berth-dev/berth/runtime"
)

// buildTags are the tags the berth binaries are built with: seccomp when
// this test binary has libseccomp (go test -tags seccomp, as make test).
func buildTags() string {
	if berthruntime.SeccompSupported() {
		return "seccomp"
	}
	return ""
}

// requireSeccomp skips a test of seccomp filters in a build without
// libseccomp, and fails it under CI, where make test builds with it.
func requireSeccomp(t *testing.T) {
	t.Helper()
	if !berthruntime.SeccompSupported() {
		if os.Getenv("CI") == "true" {
			t.Fatal("built without libseccomp under CI=true: run the tests with -tags seccomp (make test)")
		}
		t.Skip("built without libseccomp (go test -tags seccomp)")
	}
}

// probe is a shell script each service runs once, printing what it sees
// of its confinement from inside.
const probe = `grep -E '^(Seccomp|CapEff|NoNewPrivs):' /proc/self/status; ` +
	`unshare -U true 2>&1 && echo unshare=ok; mkdir /tmp/d 2>&1 && echo mkdir=ok; echo arch32=$$(linux32 uname -m 2>&1); echo ` + probeDone

// inside brings the stack up and returns what each service printed by
// the time it printed probeDone.
func inside(u *user, services ...string) map[string]string {
	u.t.Helper()
	u.run("up", "-d")
	out := map[string]string{}
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range services {
		for {
			out[s] = u.run("logs", "--no-log-prefix", s)
			if strings.Contains(out[s], probeDone) {
				break
			}
			if time.Now().After(deadline) {
				u.t.Fatalf("%s never printed %s:\n%s", s, probeDone, out[s])
			}
			sleep()
		}
	}
	return out
}

// probeDone ends what a probing service prints.
const probeDone = "probe-done"

// Docker's default seccomp profile, widened by cap_add as Docker's
// includes.caps rules say; unconfined; a profile file in Docker's format;
// no-new-privileges; and the capability sets of cap_add, cap_drop ALL and
// privileged, all seen from inside the containers; linux32 (personality
// PER_LINUX32, one of the few values the default profile admits) works.
func TestSeccompAndCapabilities(t *testing.T) {
	testutil.RequiresRoot(t)
	requireSeccomp(t)
	testutil.CheckLeaks(t)
	svc := func(name, extra string) string {
		return "  " + name + ":\n    image: berth-e2e/busybox:1\n    command: [\"sh\", \"-c\", \"" + strings.ReplaceAll(probe, `"`, `\"`) + "\"]\n" + extra
	}
	u := busyboxProject(t, "services:\n"+
		svc("confined", "")+
		svc("open", "    security_opt: [seccomp=unconfined]\n")+
		svc("admin", "    cap_add: [SYS_ADMIN]\n")+
		svc("bare", "    cap_drop: [ALL]\n")+
		svc("priv", "    privileged: true\n")+
		svc("custom", "    security_opt: [\"seccomp=./nomkdir.json\", no-new-privileges]\n"), "-t", "0")
	profile := `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}`
	if err := os.WriteFile(filepath.Join(u.dir, "nomkdir.json"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	// privileged: every capability berth holds (here, root's bounding set).
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(status), "CapBnd:\t")
	allCaps, _, _ := strings.Cut(rest, "\n")
	want := map[string][]string{
		"confined": {"Seccomp:\t2", "CapEff:\t00000000a80425fb", "unshare(0x10000000): Operation not permitted", "mkdir=ok", "NoNewPrivs:\t0", "arch32=i686"},
		"open":     {"Seccomp:\t0", "CapEff:\t00000000a80425fb", "unshare=ok"},
		"admin":    {"Seccomp:\t2", "CapEff:\t00000000a82425fb", "unshare=ok"},
		"bare":     {"Seccomp:\t2", "CapEff:\t0000000000000000"},
		"priv":     {"Seccomp:\t0", "CapEff:\t" + allCaps, "unshare=ok"},
		"custom":   {"Seccomp:\t2", "NoNewPrivs:\t1", "mkdir: can't create directory '/tmp/d': Operation not permitted", "unshare=ok"},
	}
	// The second round's filters come from the seccomp cache the first
	// one filled (see package seccache): one entry per filter, none
	// replaced (a miss would write a new file).
	var kept map[string]uint64
	for round := 1; round <= 2; round++ {
		out := inside(u, "confined", "open", "admin", "bare", "priv", "custom")
		for s, ws := range want {
			for _, w := range ws {
				if !strings.Contains(out[s], w) {
					t.Errorf("round %d: %s: %q not seen inside:\n%s", round, s, w, out[s])
				}
			}
		}
		entries := seccompEntries(t, u)
		if round == 1 {
			kept = entries
			u.run("down", "-t", "0")
		} else if fmt.Sprint(entries) != fmt.Sprint(kept) {
			t.Errorf("seccomp cache entries changed on a warm start: %v, then %v", kept, entries)
		}
	}
	if len(kept) != 4 { // confined, admin, bare, custom
		t.Errorf("%d seccomp cache entries kept, want 4: %v", len(kept), kept)
	}
}

// seccompEntries maps the seccomp cache's entries to their inodes.
func seccompEntries(t *testing.T, u *user) map[string]uint64 {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(u.root, "seccomp"))
	if err != nil {
		t.Fatalf("seccomp cache: %v", err)
	}
	out := map[string]uint64{}
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[de.Name()] = fi.Sys().(*syscall.Stat_t).Ino
	}
	return out
}

// Devices, group_add, the read-only cgroup filesystem (on cgroup v1 the
// controllers under runc's tmpfs, as in Docker) and a private cgroup
// namespace, seen from inside; a device not given cannot be opened.
func TestDevicesGroupsCgroupNS(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  dev:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo hi > /dev/mynull && echo write=ok; ls -l /dev/mynull; head -c 4 /dev/zero2 | wc -c; echo groups=$(id -G); d=/sys/fs/cgroup; [ -d $$d/pids ] && d=$$d/pids; mkdir $$d/x 2>&1; ls /sys/fs/cgroup; cat /proc/self/cgroup; echo probe-done"]
    devices: ["/dev/null:/dev/mynull:rw", "/dev/zero:/dev/zero2"]
    group_add: ["4242", "nobody"]
  own:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "cat /proc/self/cgroup; echo probe-done"]
    cgroup: private
  nodev:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "mknod /dev/m c 1 1 && head -c 1 /dev/m 2>&1; echo probe-done"]
`, "-t", "0")
	out := inside(u, "dev", "own", "nodev")
	for _, w := range []string{"write=ok", "crw-rw-rw-", "1,   3", "\n4\n", "groups=0 4242 65534", "Read-only file system", "memory", "pids"} {
		if !strings.Contains(out["dev"], w) {
			t.Errorf("dev: %q not seen inside:\n%s", w, out["dev"])
		}
	}
	if !strings.Contains(out["nodev"], "Operation not permitted") {
		t.Errorf("a device not given was usable:\n%s", out["nodev"])
	}
	for _, l := range strings.Split(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(out["own"]), probeDone)), "\n") {
		if !strings.HasSuffix(l, ":/") {
			t.Errorf("cgroup: private, yet the container sees its cgroup path %q", l)
		}
	}
}

// sysctls, ulimits, shm_size, oom_score_adj, and ipc, pid and uts shared
// with another service or the host, seen from inside; a ulimit above the
// host's hard limit is refused before any container is made.
func TestNamespacesAndLimits(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  db:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo ipc=$$(readlink /proc/self/ns/ipc) pid=$$(readlink /proc/self/ns/pid); echo probe-done; exec sleep 1000"]
    ipc: shareable
    stop_grace_period: 1s
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo ipc=$$(readlink /proc/self/ns/ipc) pid=$$(readlink /proc/self/ns/pid); echo pid1=$$(tr '\\0' ' ' </proc/1/cmdline); echo probe-done; exec sleep 1000"]
    ipc: service:db
    pid: service:db
    stop_grace_period: 1s
  tuned:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "cat /proc/sys/net/core/somaxconn /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max; ulimit -Sn; ulimit -Hn; df -k /dev/shm | tail -1; cat /proc/self/oom_score_adj; echo uts=$$(readlink /proc/self/ns/uts); echo probe-done"]
    sysctls: {net.core.somaxconn: "1111", kernel.shmmax: "65536", fs.mqueue.msg_max: "20"}
    ulimits: {nofile: {soft: 1234, hard: 2345}}
    shm_size: 32m
    oom_score_adj: 500
    uts: host
`, "-t", "0")
	out := inside(u, "db", "app", "tuned")
	field := func(s, key string) string {
		_, v, _ := strings.Cut(out[s], key+"=")
		v, _, _ = strings.Cut(v, " ")
		v, _, _ = strings.Cut(v, "\n")
		return v
	}
	if field("db", "ipc") == "" || field("db", "ipc") != field("app", "ipc") || field("db", "pid") != field("app", "pid") {
		t.Errorf("app does not share db's ipc and pid namespaces:\ndb: %s\napp: %s", out["db"], out["app"])
	}
	if !strings.Contains(out["app"], "pid1=sleep 1000") {
		t.Errorf("app does not see db's sleep (shared pid namespace):\n%s", out["app"])
	}
	host, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"1111\n65536\n20\n", "1234\n2345\n", " 32768 ", "\n500\n", "uts=" + host} {
		if !strings.Contains(out["tuned"], w) {
			t.Errorf("tuned: %q not seen inside:\n%s", w, out["tuned"])
		}
	}

	// Above the host's hard limit (root here lacks CAP_SYS_RESOURCE).
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(fmt.Sprintf(`
services:
  greedy:
    image: berth-e2e/busybox:1
    command: ["true"]
    ulimits: {nofile: %d}
`, lim.Max+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if hasCapSysResource() {
		return
	}
	o, err := u.try("up", "-d", "--remove-orphans")
	if want := fmt.Sprintf(`service "greedy": ulimits nofile: hard limit %d is above this host's %d`, lim.Max+1, lim.Max); err == nil || !strings.Contains(o, want) {
		t.Errorf("up with a ulimit above the host's: %v\n%s\nwant %q", err, o, want)
	}
	if ps := u.run("ps", "-a", "--services"); strings.Contains(ps, "greedy") {
		t.Errorf("a refused ulimit left a container:\n%s", ps)
	}
}

// hasCapSysResource reports whether this process may raise hard limits.
func hasCapSysResource() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), "CapEff:\t")
	v, _, _ := strings.Cut(rest, "\n")
	n, err := strconv.ParseUint(v, 16, 64)
	return err == nil && n&(1<<24) != 0
}

// An AppArmor profile or SELinux label asked for on a host without them is
// a clear error, not a container that runs unconfined.
func TestSecurityModuleMissing(t *testing.T) {
	testutil.RequiresRoot(t)
	if _, err := os.Stat("/sys/kernel/security/apparmor"); err == nil {
		t.Skip("this host has AppArmor")
	}
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  armored:
    image: berth-e2e/busybox:1
    command: ["true"]
    security_opt: [apparmor=docker-default]
`, "-t", "0")
	out, err := u.try("up", "-d")
	if err == nil || !strings.Contains(out, "security_opt apparmor=docker-default: AppArmor is not enabled on this host") {
		t.Errorf("up with an AppArmor profile on a host without AppArmor: %v\n%s", err, out)
	}
}
