package e2e

import (
	"strings"
	"testing"
)

// --compatibility (and COMPOSE_COMPATIBILITY) names containers as Compose
// v1 did, project_service_1, and one-offs project_service_run_<id>; the
// recorded names stay whatever the mode later.
func TestCompatibilityNames(t *testing.T) {
	u := upflagsUser(t, `
services:
  app:
    image: berth-e2e/busybox:1
    command: `+loop+`
`)
	u.run("--compatibility", "up", "-d")
	if name := psRows(t, u)["app"]["Name"]; name != u.project+"_app_1" {
		t.Fatalf("up --compatibility made %v", name)
	}
	if out := u.run("plan"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("a plan without --compatibility:\n%s", out)
	}
	u.setenv("COMPOSE_COMPATIBILITY=true")
	// /etc/hosts names a one-off by its container name.
	if out := u.run("run", "--rm", "app", "cat", "/etc/hosts"); !strings.Contains(out, u.project+"_app_run_") {
		t.Fatalf("no one-off named %s_app_run_… in its /etc/hosts:\n%s", u.project, out)
	}
}
