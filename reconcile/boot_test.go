package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// reboot makes f look like the host after a reboot: every container
// stopped, its run-root plumbing gone, the bridges gone (still recorded).
func reboot(f *fakeHost) {
	for name, c := range f.containers {
		c.State, c.ExitCode, c.Unplumbed = "created", 0, true
		f.containers[name] = c
	}
	f.networks = map[string]bool{}
}

func TestUpAfterRebootKeepsContainers(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	reboot(f)
	obs := f.observe(p)
	obs.Networks["shop_default"] = Presence{Recorded: true}
	plan, err := PlanUp(p, obs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `+ create network shop_default (its bridge or its firewall rules are gone from the host)
~ restore container shop-api-1 (its network namespace and files are gone from the host (a reboot))
~ restore container shop-db-1 (its network namespace and files are gone from the host (a reboot))
~ restore container shop-web-1 (its network namespace and files are gone from the host (a reboot))
> start container shop-api-1 (not running since the host restarted)
> start container shop-db-1 (not running since the host restarted)
> start container shop-web-1 (not running since the host restarted)
Plan: 0 to pull, 1 to create, 0 to recreate, 3 to start, 0 to remove.
`
	if plan.String() != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", plan, want)
	}
	f.calls()
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	calls := f.calls()
	for _, name := range []string{"shop-api-1", "shop-db-1", "shop-web-1"} {
		if !before(calls, "create-network shop_default", "restore "+name) || !before(calls, "restore "+name, "start "+name) {
			t.Errorf("%s: %v", name, calls)
		}
	}
	if !before(calls, "start shop-db-1", "start shop-api-1") || slices.ContainsFunc(calls, func(c string) bool { return c == "remove shop-db-1" }) {
		t.Errorf("calls: %v", calls)
	}
}

func TestPlanBoot(t *testing.T) {
	f, p := hostWithImages(), testProject()
	for i, policy := range map[string]string{"api": "unless-stopped", "db": "always", "web": "no"} {
		for j := range p.Services {
			if p.Services[j].Name == i {
				p.Services[j].Restart = policy
			}
		}
	}
	up(t, f, p, Options{})
	reboot(f)
	obs := f.observe(p)
	obs.Networks["shop_default"] = Presence{Recorded: true}
	plan, err := PlanBoot(p, obs)
	if err != nil {
		t.Fatal(err)
	}
	want := `+ create network shop_default (its bridge or its firewall rules are gone from the host)
~ restore container shop-api-1 (its network namespace and files are gone from the host (a reboot))
~ restore container shop-db-1 (its network namespace and files are gone from the host (a reboot))
> start container shop-api-1 (restart policy unless-stopped: the host started)
> start container shop-db-1 (restart policy always: the host started)
Plan: 0 to pull, 1 to create, 0 to recreate, 2 to start, 0 to remove.
`
	if plan.String() != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", plan, want)
	}
	f.calls()
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	if calls := f.calls(); !before(calls, "start shop-db-1", "restore shop-api-1") || !before(calls, "restore shop-api-1", "start shop-api-1") {
		t.Errorf("api comes back after the db it depends on: %v", calls)
	}

	// An unless-stopped container the user stopped stays down, an always one comes back.
	reboot(f)
	for name, c := range f.containers {
		c.Stopped = true
		f.containers[name] = c
	}
	obs = f.observe(p)
	obs.Networks["shop_default"] = Presence{Recorded: true}
	plan, _ = PlanBoot(p, obs)
	if starts := started(plan); !slices.Equal(starts, []string{"shop-db-1"}) {
		t.Fatalf("plan:\n%s", plan)
	}
	// Booting again changes nothing.
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	if plan, _ := PlanBoot(p, f.observe(p)); !plan.Empty() {
		t.Fatalf("second boot:\n%s", plan)
	}
}

func started(p Plan) []string {
	var out []string
	for _, a := range p.Actions {
		if a.Kind == Start {
			out = append(out, a.Target)
		}
	}
	return out
}

func TestStartRefusesAnUnplumbedContainer(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	reboot(f)
	_, err := PlanStart(p, f.observe(p), nil)
	if err == nil || !strings.Contains(err.Error(), "berth up") {
		t.Fatalf("start after a reboot: %v", err)
	}
}
