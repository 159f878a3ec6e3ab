package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

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

// deploy.restart_policy's delay is the wait before each restart, in place
// of the back-off, and max_attempts still bounds them: the recorded events
// show each start at least the delay after the exit before it, and no
// start after the second restart.
func TestRestartPolicyDelay(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  slow:
    image: berth-e2e/busybox:1
    network_mode: none
    command: ["sh", "-c", "exit 1"]
    deploy:
      restart_policy:
        condition: on-failure
        delay: 1s
        max_attempts: 2
`, "-t", "0")
	since := time.Now()
	u.run("up", "-d")
	name := u.project + "-slow-1"
	inspect := func(format string) string { return strings.TrimSpace(u.run("inspect", "-f", format, name)) }
	until(t, "saw slow give up", func() bool { return inspect("{{.State.Status}}") == "exited" })
	if got := inspect("{{.RestartCount}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}"); got != "2 1 on-failure" {
		t.Errorf("slow: restarts, exit code, policy %q, want 2 1 on-failure", got)
	}

	var starts, dies []time.Time
	out := u.run("events", "--json", "--since", since.Format(time.RFC3339Nano), "--until", time.Now().Format(time.RFC3339Nano), "slow")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev jsonEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		switch ev.Action {
		case "start":
			starts = append(starts, ev.Time)
		case "die":
			dies = append(dies, ev.Time)
		}
	}
	if len(starts) != 3 || len(dies) != 3 {
		t.Fatalf("%d starts and %d exits, want 3 of each (the first run and two restarts):\n%s", len(starts), len(dies), out)
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(dies[i-1]); gap < time.Second {
			t.Errorf("restart %d began %v after the exit before it, want at least the delay, 1s", i, gap)
		}
	}
}
