package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// loop is a busybox command that runs until it is stopped.
const loop = `["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]`

// upflagsUser is a user with busybox imported and everything of its
// project removed at the end.
func upflagsUser(t *testing.T, stack string) *user {
	t.Helper()
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, stack, "-v", "-t", "0")
	return u
}

// psRows is `ps -a --format json`, one object per container, by service.
func psRows(t *testing.T, u *user) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(u.run("ps", "-a", "--format", "json")), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("ps --format json line %q: %v", line, err)
		}
		out[row["Service"].(string)] = row
	}
	return out
}

// up --wait returns once every service runs and is healthy, and a
// one-shot has completed.
func TestUpWaitHealthy(t *testing.T) {
	u := upflagsUser(t, `
services:
  db:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "sleep 1; touch /tmp/ok; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ok"]
      interval: 1s
  app:
    image: berth-e2e/busybox:1
    command: `+loop+`
    depends_on: [db]
  init:
    image: berth-e2e/busybox:1
    command: ["true"]
`)
	stdout, stderr, code := u.split("", "up", "--wait")
	if code != 0 {
		t.Fatalf("up --wait: exit %d\n%s%s", code, stdout, stderr)
	}
	rows := psRows(t, u)
	if rows["db"]["Health"] != "healthy" || rows["db"]["State"] != "running" || rows["app"]["State"] != "running" {
		t.Fatalf("after up --wait: %v", rows)
	}
	if plan := u.run("plan", "--wait"); !strings.Contains(plan, "wait for ready container "+u.project+"-db-1") {
		t.Fatalf("plan --wait:\n%s", plan)
	}
}

// up --wait fails, exit code 1, naming the container that exited and its
// code; --wait-timeout bounds the wait for one that never gets healthy.
func TestUpWaitFails(t *testing.T) {
	u := upflagsUser(t, `
services:
  bad:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "exit 1"]
  slow:
    image: berth-e2e/busybox:1
    command: `+loop+`
    healthcheck:
      test: ["CMD", "false"]
      interval: 1h
`)
	stdout, stderr, code := u.split("", "up", "--wait", "bad")
	if code != 1 || !strings.Contains(stderr, "container "+u.project+"-bad-1 exited (1)") {
		t.Fatalf("up --wait of a failing service: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = u.split("", "up", "--wait", "--wait-timeout", "1", "slow")
	if code != 1 || !strings.Contains(stderr, "application not healthy after 1s") {
		t.Fatalf("up --wait-timeout: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, stderr, code := u.split("", "up", "--wait-timeout", "-1"); code != 1 || !strings.Contains(stderr, "--wait-timeout must be a non-negative integer") {
		t.Fatalf("negative --wait-timeout: exit %d %s", code, stderr)
	}
}

// --exit-code-from ends up with the tests container's exit code, once it
// exits, and stops the others.
func TestUpExitCodeFrom(t *testing.T) {
	u := upflagsUser(t, `
services:
  db:
    image: berth-e2e/busybox:1
    command: `+loop+`
  tests:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo running tests; sleep 1; exit 3"]
    depends_on: [db]
`)
	if _, stderr, code := u.split("", "up", "-d", "--abort-on-container-exit"); code != 1 || !strings.Contains(stderr, "--detach cannot be combined with --abort-on-container-exit") {
		t.Fatalf("-d with --abort-on-container-exit: exit %d %s", code, stderr)
	}
	if _, stderr, code := u.split("", "up", "--exit-code-from", "nope"); code != 1 || !strings.Contains(stderr, "no such service: nope") {
		t.Fatalf("--exit-code-from an unknown service: exit %d %s", code, stderr)
	}
	stdout, stderr, code := u.split("", "up", "--exit-code-from", "tests")
	if code != 3 || !strings.Contains(stdout, "tests-1 | running tests") || !strings.Contains(stdout, "tests-1 exited with code 3") ||
		!strings.Contains(stderr, "Aborting on container exit...") {
		t.Fatalf("up --exit-code-from tests: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if rows := psRows(t, u); rows["db"]["State"] != "exited" {
		t.Fatalf("db still runs after the abort: %v", rows["db"])
	}
}

// --abort-on-container-failure ignores a container that exits 0 and
// aborts, with its code, at one that fails.
func TestUpAbortOnContainerFailure(t *testing.T) {
	u := upflagsUser(t, `
services:
  db:
    image: berth-e2e/busybox:1
    command: `+loop+`
  ok:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo fine"]
  bad:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "sleep 1; exit 2"]
`)
	stdout, stderr, code := u.split("", "up", "--abort-on-container-failure")
	if code != 2 || !strings.Contains(stdout, "ok-1 exited with code 0") || !strings.Contains(stdout, "bad-1 exited with code 2") ||
		strings.Count(stderr, "Aborting on container exit...") != 1 {
		t.Fatalf("up --abort-on-container-failure: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if rows := psRows(t, u); rows["db"]["State"] != "exited" {
		t.Fatalf("db still runs after the abort: %v", rows["db"])
	}
}

// --attach, --no-attach and attach: false pick whose logs attached up
// shows; --no-log-prefix prints the lines bare.
func TestUpAttachSelection(t *testing.T) {
	u := upflagsUser(t, `
services:
  a:
    image: berth-e2e/busybox:1
    command: ["echo", "from-a"]
  b:
    image: berth-e2e/busybox:1
    command: ["echo", "from-b"]
  c:
    image: berth-e2e/busybox:1
    command: ["echo", "from-c"]
    attach: false
`)
	out := u.run("up", "--no-attach", "b")
	if !strings.Contains(out, "a-1 | from-a") || strings.Contains(out, "from-b") || strings.Contains(out, "from-c") {
		t.Fatalf("up --no-attach b (c has attach: false):\n%s", out)
	}
	out = u.run("up", "--attach", "c")
	if !strings.Contains(out, "c-1 | from-c") || strings.Contains(out, "from-a") || strings.Contains(out, "from-b") {
		t.Fatalf("up --attach c:\n%s", out)
	}
	stdout, stderr, code := u.split("", "up", "--no-log-prefix", "--no-color", "--timestamps", "b")
	if code != 0 || !strings.Contains(stdout, "Z from-b\n") && !strings.Contains(stdout, ":00 from-b\n") || strings.Contains(stdout, "b-1 | ") {
		t.Fatalf("up --no-log-prefix --timestamps b: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := u.split("", "up", "--attach", "nope"); code != 1 || !strings.Contains(stderr, "cannot attach to services not included in up: nope") {
		t.Fatalf("--attach of an unknown service: exit %d %s", code, stderr)
	}
}

// --no-deps brings up the named service alone; -V gives a recreated
// container a fresh anonymous volume, where --force-recreate keeps it.
func TestUpNoDepsAndRenewAnonVolumes(t *testing.T) {
	u := upflagsUser(t, `
services:
  db:
    image: berth-e2e/busybox:1
    command: `+loop+`
  app:
    image: berth-e2e/busybox:1
    command: `+loop+`
    depends_on: [db]
    volumes: ["/data"]
`)
	u.run("up", "-d", "--no-deps", "app")
	if rows := psRows(t, u); len(rows) != 1 || rows["app"]["State"] != "running" {
		t.Fatalf("up --no-deps app: %v", rows)
	}
	u.run("exec", "app", "sh", "-c", "echo kept > /data/f")
	u.run("up", "-d", "--force-recreate", "app")
	if out := u.run("exec", "app", "cat", "/data/f"); !strings.Contains(out, "kept") {
		t.Fatalf("--force-recreate lost the anonymous volume: %q", out)
	}
	if _, ok := psRows(t, u)["db"]; !ok {
		t.Fatal("up app without --no-deps did not bring up db")
	}
	u.run("up", "-d", "-V", "app")
	if _, _, code := u.split("", "exec", "app", "test", "-e", "/data/f"); code != 1 {
		t.Fatalf("-V kept the anonymous volume's file (test -e: exit %d)", code)
	}
	if anon := anonVolumes(t, u); len(anon) != 1 {
		t.Fatalf("want only the new anonymous volume, have %v", anon)
	}
}
