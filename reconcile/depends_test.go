package reconcile

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// upWithEvents is `berth up` on the fakes, returning its error and events.
func upWithEvents(f *fakeHost, p *spec.Project, o Options) ([]Event, error) {
	var events []Event
	_, err := Converge(context.Background(), p, f, f.drivers(), o, func(e Event) { events = append(events, e) })
	return events, err
}

func state(f *fakeHost, name string) lifecycle.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[name]
	if !ok {
		return lifecycle.Missing
	}
	return c.State
}

// A dependency that fails its condition leaves its dependents created,
// not started, with Docker Compose's error; an optional one (required:
// false) only warns, and its dependents start.
func TestFailedDependencyLeavesDependentsCreated(t *testing.T) {
	for _, tc := range []struct {
		name      string
		condition string
		fail      func(f *fakeHost)
		required  string // the error of a required dependency
		optional  string // the warning of an optional one
	}{
		{"unhealthy", "service_healthy", func(f *fakeHost) { f.fail["wait-healthy shop-db-1"] = errors.New("container shop-db-1 is unhealthy") },
			"dependency failed to start: container shop-db-1 is unhealthy", `optional dependency "db" failed to start: container shop-db-1 is unhealthy`},
		{"exit code", "service_completed_successfully", func(f *fakeHost) { f.exitCodes["shop-db-1"] = 3 },
			`service "db" didn't complete successfully: exit 3`, `optional dependency "db" didn't complete successfully: exit 3`},
	} {
		for _, required := range []bool{true, false} {
			t.Run(tc.name+map[bool]string{true: " required", false: " optional"}[required], func(t *testing.T) {
				f, p := hostWithImages(), testProject()
				p.Services[0].DependsOn["db"] = spec.Dependency{Condition: tc.condition, Required: required}
				tc.fail(f)
				events, err := upWithEvents(f, p, Options{})
				if required {
					if err == nil || !strings.Contains(err.Error(), tc.required) {
						t.Fatalf("err = %v, want %q", err, tc.required)
					}
					for _, name := range []string{"shop-api-1", "shop-web-1"} {
						if st := state(f, name); st != lifecycle.Created {
							t.Errorf("%s is %s, want created and not started", name, st)
						}
					}
					return
				}
				if err != nil {
					t.Fatalf("an optional dependency failed the up: %v", err)
				}
				i := slices.IndexFunc(events, func(e Event) bool { return e.Status == Skipped && e.Action.Kind != Start })
				if i < 0 || events[i].Err == nil || !strings.Contains(events[i].Err.Error(), tc.optional) {
					t.Fatalf("want a warning %q in the events, got %+v", tc.optional, events)
				}
				for _, name := range []string{"shop-api-1", "shop-web-1"} {
					if st := state(f, name); st != lifecycle.Running {
						t.Errorf("%s is %s, want running", name, st)
					}
				}
			})
		}
	}
}

// One wait serves a required and an optional dependent: it is required,
// and its failure holds back only the dependent that requires it.
func TestSharedWaitRequiredByOne(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].DependsOn["db"] = spec.Dependency{Condition: "service_healthy", Required: false} // api
	p.Services[2].DependsOn["db"] = spec.Dependency{Condition: "service_healthy", Required: true}  // web
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	for _, a := range plan.Actions {
		if a.Kind == WaitHealthy && a.Optional {
			t.Fatalf("a wait a dependent requires is optional: %+v", a)
		}
	}
	f.fail["wait-healthy shop-db-1"] = errors.New("container shop-db-1 is unhealthy")
	_, err := upWithEvents(f, p, Options{})
	if err == nil || !strings.Contains(err.Error(), "dependency failed to start") {
		t.Fatalf("err = %v", err)
	}
	if st := state(f, "shop-api-1"); st != lifecycle.Running {
		t.Errorf("api (optional) is %s, want running", st)
	}
	if st := state(f, "shop-web-1"); st != lifecycle.Created {
		t.Errorf("web (required) is %s, want created", st)
	}
}

// up --wait needs every service ready: a wait it shares with an optional
// dependent is not optional.
func TestUpWaitRequiresOptionalWaits(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].DependsOn["db"] = spec.Dependency{Condition: "service_completed_successfully", Required: false}
	plan := must(t)(PlanUp(p, f.observe(p), Options{Wait: true}))
	i := slices.IndexFunc(plan.Actions, func(a Action) bool { return a.ID == "wait:shop-db-1" })
	if i < 0 || plan.Actions[i].Optional {
		t.Fatalf("want a required wait for db:\n%s", plan)
	}
}

// A container joining a dependency's network namespace is created once
// that dependency runs; other dependents only after its creation.
func TestSharedNamespaceCreatedAfterStart(t *testing.T) {
	p := testProject()
	p.Services[0].NetworkMode, p.Services[0].Networks = "service:db", nil // api
	plan := must(t)(PlanUp(p, newFakeHost().observe(p), Options{}))
	after := map[string][]string{}
	for _, a := range plan.Actions {
		after[a.ID] = a.After
	}
	if !slices.Contains(after["create:shop-api-1"], "start:shop-db-1") {
		t.Errorf("api (network_mode service:db) is created after %v, want after db's start", after["create:shop-api-1"])
	}
	if got := after["create:shop-web-1"]; slices.Contains(got, "start:shop-api-1") || !slices.Contains(got, "create:shop-api-1") {
		t.Errorf("web is created after %v, want after api's creation only", got)
	}
}

// An optional dependency whose profile is not enabled is neither
// brought up nor waited for, even when its dependent is named.
func TestAbsentOptionalDependency(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].DependsOn = map[string]spec.Dependency{"cache": {Condition: "service_healthy"}}
	p.Disabled = []string{"cache"}
	plan := must(t)(PlanUp(p, f.observe(p), Options{Services: []string{"api"}}))
	if strings.Contains(plan.String(), "cache") {
		t.Fatalf("plan:\n%s", plan)
	}
	if _, err := PlanRun(p, f.observe(p), runOf(t, p, "api", "shop-api-run-0123456789ab")); err != nil {
		t.Fatal(err)
	}
	p.Services[0].DependsOn["cache"] = spec.Dependency{Condition: "service_healthy", Required: true}
	if _, err := PlanUp(p, f.observe(p), Options{Services: []string{"api"}}); err == nil {
		t.Fatal("a required dependency that is not in the project must be an error")
	}
}

// The containers whose start waits in the plan for other starts, and for
// no health or exit, are prepared at their creation
// (ContainerSpec.Prestart); not those whose start follows their creation
// alone, those that wait for a health or an exit, one-offs, or any with
// --no-start. Their starts keep the dependency order.
func TestPrestart(t *testing.T) {
	prestarts := func(plan Plan) map[string]bool {
		got := map[string]bool{}
		for _, a := range plan.Actions {
			if a.Kind == Create {
				got[a.Target] = a.Container.Prestart
			}
		}
		return got
	}
	f, p := hostWithImages(), testProject()
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	if got, want := prestarts(plan), map[string]bool{"shop-db-1": false, "shop-api-1": true, "shop-web-1": true}; !maps.Equal(got, want) {
		t.Errorf("started chain: prestart %v, want %v", got, want)
	}
	after := map[string][]string{}
	for _, a := range plan.Actions {
		after[a.ID] = a.After
	}
	if !slices.Contains(after["start:shop-api-1"], "start:shop-db-1") || !slices.Contains(after["start:shop-web-1"], "start:shop-api-1") {
		t.Errorf("starts not in dependency order: api after %v, web after %v", after["start:shop-api-1"], after["start:shop-web-1"])
	}
	for _, cond := range []string{"service_healthy", "service_completed_successfully"} {
		p := testProject()
		p.Services[0].DependsOn["db"] = spec.Dependency{Condition: cond, Required: true} // api
		got := prestarts(must(t)(PlanUp(p, f.observe(p), Options{})))
		if want := map[string]bool{"shop-db-1": false, "shop-api-1": false, "shop-web-1": true}; !maps.Equal(got, want) {
			t.Errorf("api depends on db %s: prestart %v, want %v", cond, got, want)
		}
	}
	if got := prestarts(must(t)(PlanUp(p, f.observe(p), Options{NoStart: true}))); slices.Contains(slices.Collect(maps.Values(got)), true) {
		t.Errorf("--no-start: prestart %v, want none", got)
	}
	run := must(t)(PlanRun(p, f.observe(p), runOf(t, p, "api", "shop-api-run-0123456789ab")))
	if got := prestarts(run); got["shop-api-run-0123456789ab"] || got["shop-db-1"] {
		t.Errorf("run: prestart %v, want none (a one-off; a dependency that waits for nothing)", got)
	}
	// A dependency already running: nothing to wait for, nothing prepared.
	for ref, id := range f.registry {
		f.images[ref] = id // pulled: the plan has processes
	}
	if err := Apply(context.Background(), must(t)(PlanUp(p, f.observe(p), Options{Services: []string{"db"}})), f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	if got := prestarts(must(t)(PlanUp(p, f.observe(p), Options{}))); got["shop-api-1"] {
		t.Errorf("api after a running db: prestart %v, want api's false", got)
	}
}
