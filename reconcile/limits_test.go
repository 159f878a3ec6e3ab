package reconcile

import (
	"context"
	"slices"
	"testing"

	"github.com/berth-dev/berth/spec"
)

// A changed limit is applied to the running container in place: no
// recreate, and the next plan is empty.
func TestLimitsChangeUpdatesInPlace(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].Resources = &spec.Resources{Memory: 32 << 20}
	up(t, f, p, Options{})
	p.Services[0].Resources = &spec.Resources{Memory: 64 << 20, PidsLimit: 50}
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	if want := "~ update limits of shop-api-1 (resources.memory, resources.pids_limit changed)\n" +
		"Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to update, 0 to remove.\n"; plan.String() != want {
		t.Fatalf("plan:\n%s\nwant only:\n%s", plan, want)
	}
	f.calls()
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	if calls := f.calls(); !slices.Equal(calls, []string{"update-limits shop-api-1"}) {
		t.Errorf("calls %v", calls)
	}
	if again := must(t)(PlanUp(p, f.observe(p), Options{})); !again.Empty() {
		t.Fatalf("plan after the update:\n%s", again)
	}
	// Taking the limits away is an update too.
	p.Services[0].Resources = nil
	if plan := must(t)(PlanUp(p, f.observe(p), Options{})); !slices.Equal(chain(plan, "shop-api-1"), []Kind{UpdateLimits}) {
		t.Fatalf("plan:\n%s", plan)
	}
}

// A stopped container gets its new limits before its start; with another
// change too, the recreate brings them; --no-recreate leaves them.
func TestLimitsWithStartRecreateAndNoRecreate(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	if err := f.Stop(context.Background(), "shop-api-1", 0); err != nil {
		t.Fatal(err)
	}
	p.Services[0].Resources = &spec.Resources{NanoCPUs: 5e8}
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	if got := chain(plan, "shop-api-1"); !slices.Equal(got, []Kind{UpdateLimits, Start}) {
		t.Fatalf("chain %v, plan:\n%s", got, plan)
	}
	for _, a := range plan.Actions {
		if a.ID == "start:shop-api-1" && !slices.Contains(a.After, "update-limits:shop-api-1") {
			t.Errorf("the start does not wait for the update: %v", a.After)
		}
	}
	if plan := must(t)(PlanUp(p, f.observe(p), Options{NoRecreate: true})); slices.Contains(chain(plan, "shop-api-1"), UpdateLimits) {
		t.Errorf("--no-recreate updated limits:\n%s", plan)
	}
	p.Services[0].Environment = map[string]string{"NAME": "api", "FOO": "bar"}
	plan = must(t)(PlanUp(p, f.observe(p), Options{}))
	if got := chain(plan, "shop-api-1"); !slices.Equal(got, []Kind{Remove, Create, Start}) {
		t.Fatalf("chain %v, plan:\n%s", got, plan)
	}
}
