package reconcile

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

func TestStaysDown(t *testing.T) {
	for _, tc := range []struct {
		restart string
		c       Container
		want    string // "" when started again
	}{
		{"always", Container{State: lifecycle.Exited, Stopped: true}, "kept: stopped by the user"},
		{"no", Container{State: lifecycle.Exited, ExitCode: 0}, `kept: restart policy "no", it exited with code 0`},
		{"", Container{State: lifecycle.Exited, ExitCode: 2}, `kept: restart policy "no", it exited with code 2`},
		{"on-failure", Container{State: lifecycle.Exited, ExitCode: 0}, "kept: restart policy on-failure, it exited with code 0"},
		{"on-failure:3", Container{State: lifecycle.Exited, ExitCode: 1}, "kept: restart policy on-failure:3 gave up, it exited with code 1"},
		{"on-failure", Container{State: lifecycle.Exited, ExitCode: 1}, ""}, // it would have been restarted: its shim is gone
		{"always", Container{State: lifecycle.Exited, ExitCode: 0}, ""},
		{"unless-stopped", Container{State: lifecycle.Exited, ExitCode: 137}, ""},
		{"no", Container{State: lifecycle.Exited, ExitCode: -1}, ""}, // nobody saw it end (reboot)
		{"no", Container{State: lifecycle.Created}, ""},
	} {
		if got := staysDown(spec.Service{Restart: tc.restart}, tc.c); got != tc.want {
			t.Errorf("restart %q, %+v: %q, want %q", tc.restart, tc.c, got, tc.want)
		}
	}
}

// reconcile (KeepStopped) leaves what the user stopped stopped, and says
// so in the plan; up starts it.
func TestKeepStoppedHoldsUserStops(t *testing.T) {
	f, p := hostWithImages(), testProject()
	for i := range p.Services {
		p.Services[i].Restart = "always"
	}
	up(t, f, p, Options{})
	c := f.containers["shop-db-1"]
	c.State, c.ExitCode, c.Stopped = lifecycle.Exited, 137, true
	f.containers["shop-db-1"] = c
	plan := must(t)(PlanUp(p, f.observe(p), Options{KeepStopped: true}))
	if !plan.Empty() || !strings.Contains(plan.String(), "= keep container shop-db-1 stopped (kept: stopped by the user)\n") {
		t.Fatalf("reconcile:\n%s", plan)
	}
	plan = must(t)(PlanUp(p, f.observe(p), Options{}))
	if !strings.Contains(plan.String(), "> start container shop-db-1") || len(plan.Held) != 0 {
		t.Fatalf("up:\n%s", plan)
	}
	c.Stopped = false // it died by itself, and its restart policy is always
	f.containers["shop-db-1"] = c
	plan = must(t)(PlanUp(p, f.observe(p), Options{KeepStopped: true}))
	if !strings.Contains(plan.String(), "> start container shop-db-1") {
		t.Fatalf("reconcile of a dead always container:\n%s", plan)
	}
}
