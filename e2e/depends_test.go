package e2e

import (
	"strings"
	"testing"
)

// dependsStack has app depend on init (to exit 0) and db (to be healthy);
// init exits 3 and db turns unhealthy. required is the dependencies'
// required: value.
func dependsStack(required string) string {
	return `
services:
  init:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "exit 3"]
  db:
    image: berth-e2e/busybox:1
    command: ` + loop + `
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
  app:
    image: berth-e2e/busybox:1
    command: ` + loop + `
    depends_on:
      init:
        condition: service_completed_successfully
        required: ` + required + `
      db:
        condition: service_healthy
        required: ` + required + `
`
}

// A dependency that exits non-zero or turns unhealthy leaves its
// dependent created, not started; up fails with Docker Compose's words
// and exit code 1.
func TestFailedDependencyLeavesDependentCreated(t *testing.T) {
	u := upflagsUser(t, dependsStack("true"))
	stdout, stderr, code := u.split("", "up", "-d")
	if code != 1 || !strings.Contains(stderr, `service "init" didn't complete successfully: exit 3`) ||
		!strings.Contains(stderr, "dependency failed to start: container "+u.project+"-db-1 is unhealthy") {
		t.Fatalf("up: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if st := psRows(t, u)["app"]["State"]; st != "created" {
		t.Fatalf("app is %v, want created", st)
	}
}

// An optional dependency (required: false) that fails is a warning: its
// dependent starts and up succeeds. The warning is in up's progress, on
// stderr as Docker Compose writes it.
func TestFailedOptionalDependencyWarns(t *testing.T) {
	u := upflagsUser(t, dependsStack("false"))
	stdout, stderr, code := u.split("", "up", "-d")
	if code != 0 || !strings.Contains(stderr, `optional dependency "init" didn't complete successfully: exit 3`) ||
		!strings.Contains(stderr, `optional dependency "db" failed to start: container `+u.project+"-db-1 is unhealthy") {
		t.Fatalf("up: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if st := psRows(t, u)["app"]["State"]; st != "running" {
		t.Fatalf("app is %v, want running", st)
	}
}
