package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// Restart policies as Docker's: on-failure:2 gives up after two restarts,
// always (deploy.restart_policy condition any) comes back after each
// crash with a growing back-off, unless-stopped stays down after a stop.
func TestRestartPolicies(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  twice:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "exit 3"]
    restart: on-failure:2
  crash:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "sleep 0.2; exit 1"]
    deploy:
      restart_policy:
        condition: any
  steady:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    restart: unless-stopped
    stop_grace_period: 1s
`, "-t", "0")
	u.run("up", "-d")
	name := func(s string) string { return u.project + "-" + s + "-1" }
	inspect := func(s, format string) string { return strings.TrimSpace(u.run("inspect", "-f", format, name(s))) }

	until(t, "saw twice give up", func() bool { return inspect("twice", "{{.State.Status}}") == "exited" })
	if got := inspect("twice", "{{.RestartCount}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}"); got != "2 3 on-failure" {
		t.Errorf("twice: restarts, exit code, policy %q, want 2 3 on-failure", got)
	}

	until(t, "saw crash restarted three times", func() bool {
		n, _ := strconv.Atoi(inspect("crash", "{{.RestartCount}}"))
		return n >= 3
	})
	if got := inspect("crash", "{{.HostConfig.RestartPolicy.Name}}"); got != "always" {
		t.Errorf("crash: policy %q, want always", got)
	}
	// Between runs it is restarting, waiting out the back-off, as ps says
	// in Docker's words with the last exit code.
	until(t, "saw crash restarting in ps", func() bool { return strings.Contains(u.run("ps", "crash"), "Restarting (1) ") })

	u.run("stop", "steady")
	if got := inspect("steady", "{{.State.Status}} {{.RestartCount}}"); got != "exited 0" {
		t.Errorf("steady after stop: %q, want exited 0", got)
	}
}
