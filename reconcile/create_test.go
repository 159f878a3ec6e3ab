package reconcile

import (
	"slices"
	"testing"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

func TestNoStartCreatesAndStartsNothing(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].DependsOn["db"] = spec.Dependency{Condition: "service_healthy", Required: true}
	plan := up(t, f, p, Options{NoStart: true})
	want := `↓ pull image busybox (not present)
↓ pull image web:1 (not present)
+ create network shop_default (does not exist)
+ create volume shop_data (does not exist)
+ fill volume shop_data (it is new: copy /data of image busybox into it)
+ create container shop-api-1 (new container)
+ create container shop-db-1 (new container)
+ create container shop-web-1 (new container)
~ update /etc/hosts of project shop (the project's containers changed)
Plan: 2 to pull, 5 to create, 0 to recreate, 0 to start, 0 to remove.
`
	if got := plan.String(); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	calls := f.calls()
	if !before(calls, "create shop-db-1", "create shop-api-1") || !before(calls, "create shop-api-1", "create shop-web-1") {
		t.Errorf("dependencies are created first: %v", calls)
	}
	for name, c := range f.containers {
		if c.State != lifecycle.Created {
			t.Errorf("%s is %s, want created", name, c.State)
		}
	}
	// A later up starts them, and plans nothing else.
	plan = up(t, f, p, Options{})
	if got := plan.Only(Start).Actions; len(got) != 3 || got[0].Reason != "created, never started" || len(plan.Actions) != 4 {
		t.Errorf("up after create:\n%s", plan)
	}
}

func TestNoRecreateKeepsChangedContainers(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	p.Services[0].Environment = map[string]string{"NAME": "api", "FOO": "bar"}
	plan, err := PlanUp(p, f.observe(p), Options{NoRecreate: true})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Fatalf("--no-recreate recreated:\n%s", plan)
	}
	c := f.containers["shop-api-1"]
	c.State = lifecycle.Exited
	f.containers["shop-api-1"] = c
	plan, err = PlanUp(p, f.observe(p), Options{NoRecreate: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := chain(plan, "shop-api-1"); !slices.Equal(got, []Kind{Start}) {
		t.Fatalf("a stopped container is started as it is: %v\n%s", got, plan)
	}
}

// A creation says whether the plan starts the container after it (the
// engine readies the start meanwhile): not with --no-start.
func TestCreationSaysWhetherItStarts(t *testing.T) {
	for _, noStart := range []bool{false, true} {
		f, p := hostWithImages(), testProject()
		plan := must(t)(PlanUp(p, f.observe(p), Options{NoStart: noStart}))
		creates := plan.Only(Create).Actions
		if len(creates) == 0 {
			t.Fatalf("no creations planned:\n%s", plan)
		}
		for _, a := range creates {
			if a.Container.Starts == noStart {
				t.Errorf("--no-start %v: %s has Starts %v", noStart, a.Target, a.Container.Starts)
			}
		}
	}
}
