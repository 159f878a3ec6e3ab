package reconcile

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/spec"
)

// exitingHost is a fake host whose Stop of "b" ends its goroutine
// (runtime.Goexit, as t.FailNow in a test's driver does) rather than return.
type exitingHost struct{ *fakeHost }

func (h exitingHost) Stop(ctx context.Context, name string, timeout time.Duration) error {
	if name == "b" {
		runtime.Goexit()
	}
	return h.fakeHost.Stop(ctx, name, timeout)
}

func TestApplySurvivesAnActionsGoexit(t *testing.T) {
	f := newFakeHost()
	d := f.drivers()
	d.Containers = exitingHost{f}
	var plan Plan
	for _, name := range []string{"a", "b", "c", "d"} {
		plan.Actions = append(plan.Actions, Action{ID: "stop:" + name, Kind: Stop, Target: name})
	}
	status := map[string]Status{}
	err := Apply(context.Background(), plan, d, 1, func(e Event) {
		if e.Status != Started {
			status[e.Action.Target] = e.Status
		}
	})
	if !errors.Is(err, errExited) {
		t.Fatalf("err = %v, want the exited action's failure", err)
	}
	if status["b"] != Failed {
		t.Fatalf("the action whose goroutine exited is %q, want failed", status["b"])
	}
	calls := f.calls()
	for _, name := range []string{"a", "c", "d"} {
		if status[name] != Done || !slices.Contains(calls, "stop "+name) {
			t.Fatalf("%s: %q, calls %v: the others must still run", name, status[name], calls)
		}
	}
}

// startCounter is a fake host that hears, as a StartPlanner, how many
// starts each plan it applies makes.
type startCounter struct {
	*fakeHost
	told  []int
	early bool // every time it was told, nothing had run yet
}

func (s *startCounter) PlanStarts(n int) {
	s.mu.Lock()
	s.early = len(s.log) == 0
	s.mu.Unlock()
	s.told = append(s.told, n)
}

// Apply tells a StartPlanner driver, before anything runs, how many
// containers the plan starts, those it prepares at their creation among
// them: a chain started one after the other counts each of its starts
// (the prepared ones go through the same starter), so do independent
// services and a dependent that waits for a health; one service alone is
// one start, and --no-start makes none.
func TestApplyTellsTheStarts(t *testing.T) {
	independent := func() *spec.Project {
		p := testProject()
		for i := range p.Services {
			p.Services[i].DependsOn = map[string]spec.Dependency{}
		}
		return p
	}
	healthy := func() *spec.Project {
		p := testProject()
		p.Services[0].DependsOn["db"] = spec.Dependency{Condition: "service_healthy", Required: true} // api
		return p
	}
	for _, tc := range []struct {
		name string
		p    *spec.Project
		o    Options
		want int
	}{
		{"chain", testProject(), Options{}, 3},
		{"independent", independent(), Options{}, 3},
		{"behind a health", healthy(), Options{}, 3},
		{"alone", testProject(), Options{Services: []string{"db"}, NoDeps: true}, 1},
		{"no start", testProject(), Options{NoStart: true}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := hostWithImages()
			sc := &startCounter{fakeHost: f}
			d := f.drivers()
			d.Containers = sc
			plan := must(t)(PlanUp(tc.p, f.observe(tc.p), tc.o))
			_ = Apply(context.Background(), plan, d, 0, nil) // what it tells comes first; the fakes' health is beside the point
			if !slices.Equal(sc.told, []int{tc.want}) {
				t.Errorf("told %v, want [%d]", sc.told, tc.want)
			}
			if !sc.early {
				t.Error("told after actions ran, want before any")
			}
		})
	}
}
