package reconcile

import (
	"slices"
	"testing"

	"github.com/berth-dev/berth/spec"
)

func TestNoDepsPlansOnlyTheNamed(t *testing.T) {
	p := testProject()
	plan, err := PlanUp(p, hostWithImages().observe(p), Options{Services: []string{"api"}, NoDeps: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range plan.Actions {
		if a.Kind == Create && a.Target != "shop-api-1" || a.Kind == CreateVolume {
			t.Fatalf("--no-deps plans what api depends on:\n%s", plan)
		}
	}
	if len(chain(plan, "shop-api-1")) == 0 {
		t.Fatalf("api is not planned:\n%s", plan)
	}
	with, _ := PlanUp(p, hostWithImages().observe(p), Options{Services: []string{"api"}})
	if len(chain(with, "shop-db-1")) == 0 {
		t.Fatalf("without --no-deps db is planned:\n%s", with)
	}
}

func TestRenewAnonVolumes(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].Mounts = append(p.Services[0].Mounts, spec.Mount{Type: spec.MountVolume, Target: "/cache"})
	up(t, f, p, Options{})
	before := anonAt(f, "shop-api-1", "/cache")
	if before == "" {
		t.Fatalf("no anonymous volume recorded: %v", f.anonymous)
	}
	plan := up(t, f, p, Options{Services: []string{"api"}, RenewAnonVolumes: true, NoDeps: true})
	if got := removed(plan); !slices.Equal(got, []string{"shop-api-1"}) {
		t.Fatalf("-V recreates the named service's containers: %v\n%s", got, plan)
	}
	after := anonAt(f, "shop-api-1", "/cache")
	if after == "" || after == before {
		t.Fatalf("-V must give a new anonymous volume: %q -> %q\n%s", before, after, plan)
	}
	if _, left := f.volumes[before]; left {
		t.Fatalf("the replaced volume %s is left:\n%s", before, plan)
	}
	if plan := up(t, f, p, Options{}); !plan.Empty() {
		t.Fatalf("a second up plans:\n%s", plan)
	}
}

// anonAt is the anonymous volume the fake host records at target of container.
func anonAt(f *fakeHost, container, target string) string {
	for name, key := range f.anonymous {
		if key == AnonymousKey(container, target) {
			return name
		}
	}
	return ""
}
