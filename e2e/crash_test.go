package e2e

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/reconcile"
)

const crashStack = `
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sleep", "100000"]
    environment: {GEN: "${GEN:-1}"}
    ports: ["127.0.0.1::8080"]
    volumes: [data:/data, /anon]
    stop_signal: SIGKILL
  job:
    image: berth-e2e/busybox:1
    command: ["sleep", "100000"]
    depends_on: [web]
    stop_signal: SIGKILL
volumes:
  data: {}
`

// killedAt runs berth args with the crash hook set to n; it reports
// whether berth killed itself (false: the command had fewer host changes
// and finished).
func (u *user) killedAt(n int, args ...string) bool {
	u.t.Helper()
	cmd := exec.Command(u.bin, append([]string{"-p", u.project}, args...)...)
	cmd.Dir = u.dir
	cmd.Env = append(append([]string{}, u.env...), reconcile.KillAfterEnv+"="+strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	if err != nil {
		u.t.Fatalf("berth %v with the hook at %d failed without being killed: %v\n%s", args, n, err, out)
	}
	return false
}

// files lists the files (not directories) under dir.
func files(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// cleanSlate is what a clean up and down -v of a project leave behind:
// the files kept under the run root (the project's lock file, the host's
// sysctl record, the log of the root's starters: an up that starts one
// container has none, and a later one may) and the host's objects. Crash
// sweeps compare with it.
type cleanSlate struct {
	kept   []string
	before testutil.HostSnapshot
}

// cleanSlate brings u's project up and down -v once and records what is
// left then.
func (u *user) cleanSlate() cleanSlate {
	u.t.Helper()
	u.run("up", "-d")
	u.run("down", "-v", "-t", "0")
	kept := append(files(u.runRoot), filepath.Join(u.runRoot, "starter.log"))
	return cleanSlate{kept: kept, before: testutil.Snapshot(u.t)}
}

// residue is what a project taken down with -v left beyond the clean
// slate: host objects, files under the run root, container, volume and
// /etc file directories, records.
func (s cleanSlate) residue(u *user) []string {
	t := u.t
	t.Helper()
	testutil.RemoveCgroupParent(t, engine.HostName(u.root)) // issue 13's other half: down leaves it
	var left []string
	for kind, objs := range s.before.Leaked(testutil.Snapshot(t)) {
		left = append(left, kind+": "+strings.Join(objs, ", "))
	}
	for _, f := range files(u.runRoot) {
		if !slices.Contains(s.kept, f) {
			left = append(left, f)
		}
	}
	for _, d := range []string{"containers", "volumes", "etc"} {
		ents, _ := os.ReadDir(filepath.Join(u.root, d))
		for _, e := range ents {
			left = append(left, filepath.Join(d, e.Name()))
		}
	}
	if out := u.run("ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		left = append(left, "records: "+out)
	}
	return left
}

// TestCrashSweep kills berth after each host change of up (fresh and
// recreate), down, rm and run --rm in turn; after each, the next up must
// converge and down -v must leave nothing.
func TestCrashSweep(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, crashStack, "-v", "-t", "0")
	slate := u.cleanSlate()
	cases := []struct {
		name  string
		setup func()
		args  []string
	}{
		{"up", func() {}, []string{"up", "-d"}},
		{"up-recreate", func() { u.run("up", "-d") }, []string{"up", "-d"}},
		{"down", func() { u.run("up", "-d") }, []string{"down", "-v"}},
		{"rm", func() { u.run("up", "-d") }, []string{"rm", "-s", "-f", "-v"}},
		{"run-rm", func() {}, []string{"run", "--rm", "job", "true"}},
	}
	total := 0
	for _, c := range cases {
		n := 1
		for ; ; n++ {
			c.setup()
			recreate := c.name == "up-recreate"
			if recreate {
				u.setenv("GEN=2")
			}
			killed := u.killedAt(n, c.args...)
			// The next up converges: it succeeds, and one more plans nothing.
			u.run("up", "-d")
			if out := u.run("plan"); strings.Contains(out, "container") || strings.Contains(out, "network") || strings.Contains(out, "volume") {
				t.Fatalf("%s killed at %d: up did not converge, it would still do:\n%s", c.name, n, out)
			}
			u.run("down", "-v", "-t", "0")
			if recreate {
				u.setenv("GEN=1")
			}
			if left := slate.residue(u); len(left) > 0 {
				t.Fatalf("%s killed at %d: down -v left %v", c.name, n, left)
			}
			if !killed {
				break
			}
			total++
		}
		if n == 1 {
			t.Fatalf("%s: the hook %s killed nothing", c.name, reconcile.KillAfterEnv)
		}
		t.Logf("%s: %d kill points, each converged with zero residue after down -v", c.name, n-1)
	}
	t.Logf("kill points swept and passed: %d of %d", total, total)
}

// A removal of berth killed in the middle of deleting a container's
// directory left it without config.json; every later up failed with
// "container not found". Now the container counts as gone and up remakes it.
func TestContainerWithoutConfigIsRemade(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, crashStack, "-v", "-t", "0")
	u.run("up", "-d")
	u.run("stop")
	name := u.project + "-web-1"
	if err := os.Remove(filepath.Join(u.root, "containers", name, "config.json")); err != nil {
		t.Fatal(err)
	}
	if out := u.run("plan"); !strings.Contains(out, "create container "+name+" (the container is gone from the host)") {
		t.Fatalf("plan:\n%s", out)
	}
	u.run("up", "-d")
	if out := u.run("ps"); strings.Count(out, "Up ") != 2 {
		t.Fatalf("ps:\n%s", out)
	}
}
