package e2e

import (
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// restart takes the services that depend on the restarted one with
// depends_on restart: true, unless --no-deps.
func TestRestartDependents(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  base:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
  follower:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    depends_on:
      base: {condition: service_started, restart: true}
  bystander:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    depends_on: [base]
`, "-t", "0")
	u.run("up", "-d")
	started := func(service string) string {
		return u.run("inspect", "-f", "{{.State.StartedAt}}", u.project+"-"+service+"-1")
	}
	follower, bystander := started("follower"), started("bystander")
	u.run("restart", "--no-deps", "base")
	if started("follower") != follower {
		t.Fatal("restart --no-deps base restarted follower")
	}
	u.run("restart", "base")
	if started("follower") == follower {
		t.Fatal("restart base did not restart follower, which depends on it with restart: true")
	}
	if started("bystander") != bystander {
		t.Fatal("restart base restarted bystander, whose dependency has no restart: true")
	}
}
