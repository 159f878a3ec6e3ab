package reconcile

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/spec"
)

// sweptSeen is a fake host that records, for each removal and each of
// nets, whether it was told that network's removal waits for its link
// (SweptBy).
type sweptSeen struct {
	*fakeHost
	nets []string
	mu   sync.Mutex
	seen map[string]map[string]bool // container -> network -> swept
}

func (s *sweptSeen) Remove(ctx context.Context, name string, timeout time.Duration) error {
	s.mu.Lock()
	s.seen[name] = map[string]bool{}
	for _, n := range s.nets {
		s.seen[name][n] = SweptBy(ctx, n)
	}
	s.mu.Unlock()
	return s.fakeHost.Remove(ctx, name, timeout)
}

// withCorp is testProject with every service also on the external
// network corp.
func withCorp() *spec.Project {
	p := testProject()
	p.Networks["corp"] = spec.Network{Name: "corp", External: true}
	for i := range p.Services {
		p.Services[i].Networks = map[string]spec.ServiceNetwork{"default": {}, "corp": {}}
	}
	return p
}

// A down of a whole project leaves its containers' links to the removal
// of its networks (one wait for all), and only then: while anything stays
// on a network (other services, a kept orphan, another project's
// containers), each removal waits for its own links. An external
// network, which the down does not remove, never waits for them.
func TestDownLeavesLinksToTheNetworksRemoval(t *testing.T) {
	zero := time.Duration(0)
	for _, c := range []struct {
		name    string
		project func() *spec.Project
		down    func(f *fakeHost) (Plan, error)
		swept   map[string]bool // by network
	}{
		{"whole project", testProject, func(f *fakeHost) (Plan, error) {
			p := testProject()
			return PlanDown(p, f.observe(p), DownOptions{Timeout: &zero})
		}, map[string]bool{"shop_default": true}},
		{"some services", testProject, func(f *fakeHost) (Plan, error) {
			p := testProject()
			return PlanDown(p, f.observe(p), DownOptions{Services: []string{"web"}, Timeout: &zero})
		}, map[string]bool{"shop_default": false}},
		{"an orphan kept", testProject, func(f *fakeHost) (Plan, error) {
			p := testProject()
			p.Services = p.Services[1:] // web is an orphan now
			return PlanDown(p, f.observe(p), DownOptions{Timeout: &zero})
		}, map[string]bool{"shop_default": false}},
		{"an orphan removed", testProject, func(f *fakeHost) (Plan, error) {
			p := testProject()
			p.Services = p.Services[1:] // web is an orphan now
			return PlanDown(p, f.observe(p), DownOptions{RemoveOrphans: true, Timeout: &zero})
		}, map[string]bool{"shop_default": true}},
		{"another project on its network", testProject, func(f *fakeHost) (Plan, error) {
			p := testProject()
			obs := f.observe(p)
			obs.Peers = []string{"other"}
			return PlanDown(p, obs, DownOptions{Timeout: &zero})
		}, map[string]bool{"shop_default": false}},
		{"an external network", withCorp, func(f *fakeHost) (Plan, error) {
			p := withCorp()
			return PlanDown(p, f.observe(p), DownOptions{Timeout: &zero})
		}, map[string]bool{"shop_default": true, "corp": false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := hostWithImages()
			f.networks["corp"] = true // made outside the project
			up(t, f, c.project(), Options{})
			plan := must(t)(c.down(f))
			nets := slices.Sorted(maps.Keys(c.swept))
			s := &sweptSeen{fakeHost: f, nets: nets, seen: map[string]map[string]bool{}}
			d := f.drivers()
			d.Containers = s
			if err := Apply(context.Background(), plan, d, 0, nil); err != nil {
				t.Fatal(err)
			}
			if len(s.seen) == 0 {
				t.Fatalf("nothing removed:\n%s", plan)
			}
			for _, name := range slices.Sorted(maps.Keys(s.seen)) {
				for _, n := range nets {
					if s.seen[name][n] != c.swept[n] {
						t.Errorf("removal of %s told network %s's removal waits for its link: %v, want %v\n%s", name, n, s.seen[name][n], c.swept[n], plan)
					}
				}
			}
			calls := f.calls()
			for _, n := range nets {
				if c.swept[n] && !slices.Contains(calls, "remove-network "+n) {
					t.Fatalf("the removal of network %s is not planned: %v", n, calls)
				}
			}
			if slices.Contains(calls, "remove-network corp") {
				t.Fatalf("the external network corp is removed: %v", calls)
			}
		})
	}
}

// A network whose bridge holds links of removed containers (a down cut
// short while an outside process held a namespace) is ensured again,
// which deletes them, before anything else.
func TestUpEnsuresANetworkWithStrayLinks(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	obs := f.observe(p)
	pr := obs.Networks["shop_default"]
	pr.Strays = true
	obs.Networks["shop_default"] = pr
	plan, err := PlanUp(p, obs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "+ create network shop_default (its bridge holds links of removed containers)\n"
	if !strings.HasPrefix(plan.String(), want) {
		t.Fatalf("plan:\n%s\nwant it to begin with:\n%s", plan, want)
	}
	pr.Strays = false
	obs.Networks["shop_default"] = pr
	if plan := must(t)(PlanUp(p, obs, Options{})); strings.Contains(plan.String(), "network") {
		t.Errorf("a network without stray links is ensured again:\n%s", plan)
	}
}
