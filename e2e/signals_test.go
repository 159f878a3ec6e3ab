package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// signalsUser is a user with a stack whose containers write into out, a
// host directory bound at /out.
func signalsUser(t *testing.T, services string) (u *user, out string) {
	t.Helper()
	out = t.TempDir()
	u = newUser(t, project(t, "services:\n"+strings.ReplaceAll(services, "OUT", out)))
	t.Cleanup(func() {
		u.try("down", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	return u, out
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		sleep()
	}
	t.Fatalf("no %s in time", what)
}

// state is the State of container name as `ps -a --format json` reports it.
func state(t *testing.T, u *user, name string) (state, status string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(u.run("ps", "-a", "--format", "json")), "\n") {
		var row struct{ Name, State, Status string }
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("ps --format json: %v: %q", err, line)
		}
		if row.Name == name {
			return row.State, row.Status
		}
	}
	return "", ""
}

// kill -s delivers the signal; kill's default SIGKILL ends a container
// with 137, and with restart: always it stays down unless the signal is
// not its stop signal (Docker's rule); a bad signal is exit 1; nothing
// running is "No container to kill".
func TestKill(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u, out := signalsUser(t, `
  trap:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'echo got >> /out/usr1' USR1; echo start >> /out/trap; while true; do sleep 0.1; done"]
    volumes: ["OUT:/out"]
  always:
    image: berth-e2e/busybox:1
    restart: always
    command: ["sh", "-c", "trap 'exit 5' USR1; echo start >> /out/always; while true; do sleep 0.1; done"]
    volumes: ["OUT:/out"]
  stopsig:
    image: berth-e2e/busybox:1
    restart: always
    stop_signal: SIGTERM
    command: ["sh", "-c", "trap 'exit 5' USR1; echo start >> /out/stopsig; while true; do sleep 0.1; done"]
    volumes: ["OUT:/out"]
`)
	u.run("up", "-d")
	p := u.project
	// An init ignores a signal it has no handler for: wait for the traps.
	for _, svc := range []string{"trap", "always", "stopsig"} {
		eventually(t, svc+"'s trap", func() bool { return fileSize(filepath.Join(out, svc)) > 0 })
	}
	if got, err := u.try("kill", "-s", "NOPE"); err == nil || !strings.Contains(got, "--signal") {
		t.Fatalf("kill -s NOPE must fail naming the flag: %v\n%s", err, got)
	}

	got := u.run("kill", "-s", "SIGUSR1", "trap")
	if !strings.Contains(got, "Container "+p+"-trap-1  Killed") {
		t.Fatalf("kill -s SIGUSR1 trap:\n%s", got)
	}
	eventually(t, "marker of the trapped SIGUSR1", func() bool {
		b, _ := os.ReadFile(filepath.Join(out, "usr1"))
		return strings.Contains(string(b), "got")
	})
	if st, _ := state(t, u, p+"-trap-1"); st != "running" {
		t.Fatalf("a trapped signal leaves the container running, it is %q", st)
	}
	u.run("kill", "-s", "10", "trap") // by number too
	eventually(t, "a second marker", func() bool {
		b, _ := os.ReadFile(filepath.Join(out, "usr1"))
		return strings.Count(string(b), "got") == 2
	})

	// No stop signal named: any kill is an explicit stop, as in Docker.
	u.run("kill", "-s", "USR1", "always")
	// A signal that is not the named stop signal: the policy restarts it.
	u.run("kill", "-s", "USR1", "stopsig")
	eventually(t, "the restart of stopsig", func() bool {
		b, _ := os.ReadFile(filepath.Join(out, "stopsig"))
		st, _ := state(t, u, p+"-stopsig-1")
		return strings.Count(string(b), "start") == 2 && st == "running"
	})
	if st, status := state(t, u, p+"-always-1"); st != "exited" || !strings.Contains(status, "Exited (5)") {
		t.Fatalf("always after kill -s USR1: %s %s", st, status)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "always")); strings.Count(string(b), "start") != 1 {
		t.Fatalf("a killed restart: always container must stay down, it started: %q", b)
	}

	plan := u.run("kill")
	for _, svc := range []string{"trap", "stopsig"} {
		if !strings.Contains(plan, "Container "+p+"-"+svc+"-1  Killed") {
			t.Fatalf("kill of all:\n%s", plan)
		}
	}
	time.Sleep(time.Second) // a restart would have come by now
	for _, svc := range []string{"trap", "stopsig"} {
		if st, status := state(t, u, p+"-"+svc+"-1"); st != "exited" || !strings.Contains(status, "Exited (137)") {
			t.Fatalf("%s after kill: %s %s", svc, st, status)
		}
	}
	if got := u.run("kill"); !strings.Contains(got, "No container to kill") {
		t.Fatalf("kill with nothing running:\n%s", got)
	}
	u.run("down", "-t", "0")
}

// fileSize is the size of name, 0 when it is missing.
func fileSize(name string) int64 {
	fi, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// A paused container's processes stop (a counter stops growing), ps shows
// it paused, unpause resumes it; stop, kill and down of a paused container
// work and leave nothing behind.
func TestPauseUnpause(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u, out := signalsUser(t, `
  counter:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do echo x >> /out/count; sleep 0.05; done"]
    volumes: ["OUT:/out"]
  other:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
`)
	u.run("up", "-d")
	name, count := u.project+"-counter-1", filepath.Join(out, "count")
	eventually(t, "the counter", func() bool { return fileSize(count) > 0 })

	if got := u.run("pause", "counter"); !strings.Contains(got, "Container "+name+"  Paused") {
		t.Fatalf("pause:\n%s", got)
	}
	if st, status := state(t, u, name); st != "paused" || !strings.HasSuffix(status, "(Paused)") {
		t.Fatalf("ps after pause: %s %s", st, status)
	}
	if got := u.run("inspect", "counter"); !strings.Contains(got, `"Paused": true`) || !strings.Contains(got, `"Status": "paused"`) {
		t.Fatalf("inspect of a paused container:\n%s", got)
	}
	if got, err := u.try("exec", "-T", "counter", "true"); err == nil || !strings.Contains(got, "is paused") {
		t.Fatalf("exec in a paused container must fail as with Docker: %v\n%s", err, got)
	}
	if got := u.run("ps"); !strings.Contains(got, name) {
		t.Fatalf("ps without -a lists a paused container, as Docker's:\n%s", got)
	}
	before := fileSize(count)
	time.Sleep(time.Second)
	if after := fileSize(count); after != before {
		t.Fatalf("a paused counter kept writing: %d -> %d bytes", before, after)
	}
	if got, err := u.try("pause", "counter"); err == nil || !strings.Contains(got, "already paused") {
		t.Fatalf("pausing a paused container must fail as with Docker: %v\n%s", err, got)
	}
	if got := u.run("unpause", "counter"); !strings.Contains(got, "Container "+name+"  Unpaused") {
		t.Fatalf("unpause:\n%s", got)
	}
	eventually(t, "the counter to resume", func() bool { return fileSize(count) > before })
	if st, _ := state(t, u, name); st != "running" {
		t.Fatalf("after unpause: %s", st)
	}
	if got, err := u.try("unpause", "counter"); err == nil || !strings.Contains(got, "is not paused") {
		t.Fatalf("unpausing a running container must fail as with Docker: %v\n%s", err, got)
	}

	// stop of a paused container: its stop signal reaches it once thawed.
	u.run("pause", "counter")
	u.run("stop", "-t", "5", "counter")
	if st, status := state(t, u, name); st != "exited" || !strings.Contains(status, "Exited (0)") {
		t.Fatalf("stop of a paused container: %s %s", st, status)
	}
	// kill of a paused container.
	u.run("start", "counter")
	u.run("pause", "counter")
	u.run("kill", "counter")
	if st, status := state(t, u, name); st != "exited" || !strings.Contains(status, "Exited (137)") {
		t.Fatalf("kill of a paused container: %s %s", st, status)
	}
	// down of a paused project.
	u.run("start", "counter")
	u.run("pause")
	u.run("down", "-t", "5")
	if got := u.run("ps", "-a", "-q"); strings.TrimSpace(got) != "" {
		t.Fatalf("down left containers:\n%s", got)
	}
}

// top lists each running container's processes with Docker's columns.
func TestTop(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	secs := strconv.Itoa(100000 + rand.IntN(100000))
	u, _ := signalsUser(t, fmt.Sprintf(`
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "sleep %s & wait"]
  idle:
    image: berth-e2e/busybox:1
    command: ["true"]
`, secs))
	u.run("up", "-d")
	var pid int
	eventually(t, "the sleep", func() bool { pid = findProcess("sleep\x00" + secs + "\x00"); return pid > 0 })
	got := u.run("top")
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if !slices.Equal(strings.Fields(lines[0]), []string{"SERVICE", "#", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}) {
		t.Fatalf("top's header:\n%s", got)
	}
	var row []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 3 && f[3] == strconv.Itoa(pid) {
			row = f
		}
	}
	if row == nil || row[0] != "app" || row[1] != "1" || row[2] != "root" || strings.Join(row[9:], " ") != "sleep "+secs {
		t.Fatalf("top has no row for the sleep (pid %d):\n%s", pid, got)
	}
	if len(lines) != 3 { // the sh and the sleep; idle has exited
		t.Fatalf("top lists processes of other containers or none of sh:\n%s", got)
	}
	if got := u.run("top", "idle"); strings.TrimSpace(got) != "" {
		t.Fatalf("top of a stopped service prints nothing, as Docker Compose:\n%s", got)
	}
	if _, err := u.try("top", "nope"); err == nil {
		t.Fatal("top of an unknown service must fail")
	}
}

// findProcess is the host pid whose /proc cmdline is cmdline, 0 for none.
func findProcess(cmdline string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, "cmdline")); err == nil && bytes.Equal(b, []byte(cmdline)) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	return 0
}

// wait prints each container's exit code as Docker Compose does and exits
// with it; --down-project takes the project down afterwards.
func TestWait(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u, _ := signalsUser(t, `
  job:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "sleep 1; exit 3"]
`)
	u.run("up", "-d")
	id := strings.TrimSpace(u.run("ps", "-q"))
	got, err := u.try("wait", "job")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || strings.TrimSpace(got) != fmt.Sprintf("container %q exited with status code 3", id) {
		t.Fatalf("wait job: %v\n%s", err, got)
	}
	if got, err := u.try("wait", "job"); err == nil || !strings.Contains(got, "no containers for project") {
		t.Fatalf("wait with nothing running: %v\n%s", err, got)
	}
	if _, err := u.try("wait"); err == nil {
		t.Fatal("wait needs a service")
	}
	u.run("start")
	got, err = u.try("wait", "--down-project", "job")
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || !strings.Contains(got, "Removed") {
		t.Fatalf("wait --down-project: %v\n%s", err, got)
	}
	if got := u.run("ps", "-a", "-q"); strings.TrimSpace(got) != "" {
		t.Fatalf("--down-project left containers:\n%s", got)
	}
}
