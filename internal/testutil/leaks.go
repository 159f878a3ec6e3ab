package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// HostSnapshot is the set of host objects a berth test could leak: network
// links, mounts, nftables tables, named network namespaces, cgroups and
// berth processes. Compare two snapshots with Leaked.
type HostSnapshot map[string][]string

// Snapshot reads the host objects now.
func Snapshot(t testing.TB) HostSnapshot {
	t.Helper()
	s := HostSnapshot{
		"links":    lines(t, "ip", "-o", "link", "show"),
		"mounts":   mountPoints(t),
		"nftables": lines(t, "nft", "list", "tables"),
		"iptables": rules(t),
		"netns":    lines(t, "ip", "netns", "list"),
		"cgroups":  berthCgroups(),
		"procs":    berthProcs(t),
	}
	// Only interface names matter for links: flags and counters change.
	for i, l := range s["links"] {
		if f := strings.SplitN(l, ": ", 3); len(f) > 1 {
			s["links"][i] = strings.SplitN(f[1], "@", 2)[0]
		}
	}
	sort.Strings(s["links"])
	return s
}

// CheckLeaks records a snapshot now and registers a cleanup, run after every
// cleanup registered later (so after the test's own teardown), that fails t
// if any host object appeared and was not removed.
func CheckLeaks(t testing.TB) {
	t.Helper()
	before := Snapshot(t)
	t.Cleanup(func() {
		if leaked := before.Leaked(Snapshot(t)); len(leaked) > 0 {
			t.Errorf("test leaked host objects: %v", leaked)
		}
	})
}

// Leaked lists what is in after but not in s, by kind.
func (s HostSnapshot) Leaked(after HostSnapshot) map[string][]string {
	out := map[string][]string{}
	for kind, items := range after {
		had := map[string]bool{}
		for _, x := range s[kind] {
			had[x] = true
		}
		for _, x := range items {
			if !had[x] {
				out[kind] = append(out[kind], x)
			}
		}
	}
	return out
}

func lines(t testing.TB, name string, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		return nil
	}
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return nil
	}
	var ls []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

// rules lists the iptables rules (not counters) of every table.
func rules(t testing.TB) []string {
	var out []string
	for _, l := range lines(t, "iptables-save") {
		if strings.HasPrefix(l, "-A ") {
			out = append(out, l)
		}
	}
	return out
}

func mountPoints(t testing.TB) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatalf("reading mountinfo: %v", err)
	}
	var ms []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 {
			ms = append(ms, f[4])
		}
	}
	sort.Strings(ms)
	return ms
}

// berthCgroups lists the cgroup directories below any "berth" parent, in
// every mounted v1 controller and in the v2 hierarchy.
func berthCgroups() []string {
	var out []string
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/berth*")
	if m, _ := filepath.Glob("/sys/fs/cgroup/berth*"); m != nil {
		roots = append(roots, m...)
	}
	for _, r := range roots {
		_ = filepath.WalkDir(r, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

func berthProcs(t testing.TB) []string {
	var out []string
	for _, l := range lines(t, "ps", "-eo", "pid,args") {
		if strings.Contains(l, "berth") && (strings.Contains(l, " shim") || strings.Contains(l, " init") || strings.Contains(l, " starter ")) {
			out = append(out, l)
		}
	}
	return out
}

// RemoveCgroupParent removes the (empty) cgroup parent directory name from
// every hierarchy, for tests whose private berth made one.
func RemoveCgroupParent(t testing.TB, name string) {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
			t.Errorf("removing cgroup %s: %v", d, err)
		}
	}
}
