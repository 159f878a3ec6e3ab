package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/spec"
)

func runOf(t *testing.T, p *spec.Project, service, name string) RunOptions {
	t.Helper()
	svc, ok := p.Service(service)
	if !ok {
		t.Fatalf("no service %s", service)
	}
	return RunOptions{Service: *svc, Name: name}
}

func TestRunStartsDependenciesThenTheOneOff(t *testing.T) {
	f, p := hostWithImages(), testProject()
	f.images["busybox"], f.images["web:1"] = f.registry["busybox"], f.registry["web:1"]
	p.Services[0].DependsOn["db"] = spec.Dependency{Condition: "service_healthy", Required: true}
	o := runOf(t, p, "api", "shop-api-run-0123456789ab")
	plan, err := PlanRun(p, f.observe(p), o)
	if err != nil {
		t.Fatal(err)
	}
	want := `+ create network shop_default (does not exist)
+ create volume shop_data (does not exist)
+ fill volume shop_data (it is new: copy /data of image busybox into it)
+ create container shop-api-run-0123456789ab (one-off container of service api)
+ create container shop-db-1 (new container)
> start container shop-api-run-0123456789ab (one-off container of service api)
> start container shop-db-1 (new container)
… wait for healthy container shop-db-1 (a dependent needs it healthy)
~ update /etc/hosts of project shop (the project's containers changed)
Plan: 0 to pull, 4 to create, 0 to recreate, 0 to start, 0 to remove.
`
	if got := plan.String(); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	for _, a := range plan.Actions {
		if a.ID == "create:"+o.Name && (!slices.Contains(a.After, "wait-healthy:shop-db-1") || !a.Container.OneOff || a.Container.Service.Restart != "no") {
			t.Errorf("the one-off: after %v, spec %+v", a.After, a.Container)
		}
	}
	if err := applyPlan(f, plan); err != nil {
		t.Fatal(err)
	}
	// up leaves the one-off alone: not api's container, not an orphan.
	plan, err = PlanUp(p, f.observe(p), Options{RemoveOrphans: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plan.String(), "run-0123456789ab") || len(plan.Only(Create).Actions) != 2 {
		t.Fatalf("up after run:\n%s", plan)
	}
	applyPlan(f, plan)
	// down removes it with the rest.
	plan, err = PlanDown(p, f.observe(p), DownOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.String(), "- remove container "+o.Name+" (down)") {
		t.Fatalf("down does not remove the one-off:\n%s", plan)
	}
}

func TestRunNoDepsAndNameClash(t *testing.T) {
	f, p := hostWithImages(), testProject()
	o := runOf(t, p, "web", "shop-web-run-0123456789ab")
	o.NoDeps = true
	plan, err := ConvergeRun(context.Background(), p, f, f.drivers(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Only(Create).Actions; len(got) != 1 || got[0].Target != o.Name {
		t.Fatalf("--no-deps makes the one-off alone:\n%s", plan)
	}
	if calls := f.calls(); !before(calls, "pull web:1", "create "+o.Name) || !before(calls, "create "+o.Name, "start "+o.Name) {
		t.Fatalf("run pulls, creates, starts: %v", calls)
	}
	if _, err := PlanRun(p, f.observe(p), o); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("a second one-off of the same name: %v", err)
	}
	o.Service.Name = "nosuch"
	if _, err := PlanRun(p, f.observe(p), o); err == nil {
		t.Fatal("a one-off of an unknown service was planned")
	}
}

// applyPlan carries out plan on the fake, pulls included.
func applyPlan(f *fakeHost, plan Plan) error {
	return Apply(context.Background(), plan, f.drivers(), 0, nil)
}

func TestRunRemoveTakesTheOneOffAndItsVolumes(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].Mounts = []spec.Mount{{Type: spec.MountVolume, Target: "/scratch"}}
	o := runOf(t, p, "api", "shop-api-run-0123456789ab")
	if _, err := ConvergeRun(context.Background(), p, f, f.drivers(), o, nil); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanRemoveOneOff(p, f.observe(p), o.Name)
	if err != nil {
		t.Fatal(err)
	}
	text := plan.String()
	if !strings.Contains(text, "- remove container "+o.Name+" (run --rm)") || !strings.Contains(text, "at /scratch, run --rm") ||
		strings.Contains(text, "shop-db-1") {
		t.Fatalf("run --rm removes the one-off and its anonymous volume only:\n%s", text)
	}
}
