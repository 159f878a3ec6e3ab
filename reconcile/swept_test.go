package reconcile

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"
)

// sweptSeen is a fake host that records, for each removal, whether it
// was told its network's removal waits for its link (SweptBy).
type sweptSeen struct {
	*fakeHost
	mu   sync.Mutex
	seen map[string]bool
}

func (s *sweptSeen) Remove(ctx context.Context, name string, timeout time.Duration) error {
	s.mu.Lock()
	s.seen[name] = SweptBy(ctx, "shop_default")
	s.mu.Unlock()
	return s.fakeHost.Remove(ctx, name, timeout)
}

// A down of a whole project leaves its containers' links to the removal
// of its networks (one wait for all), and only then: while anything stays
// on a network (other services, a kept orphan, another project's
// containers), each removal waits for its own links.
func TestDownLeavesLinksToTheNetworksRemoval(t *testing.T) {
	zero := time.Duration(0)
	for _, c := range []struct {
		name  string
		down  func(f *fakeHost) (Plan, error)
		swept bool
	}{
		{"whole project", func(f *fakeHost) (Plan, error) {
			p := testProject()
			return PlanDown(p, f.observe(p), DownOptions{Timeout: &zero})
		}, true},
		{"some services", func(f *fakeHost) (Plan, error) {
			p := testProject()
			return PlanDown(p, f.observe(p), DownOptions{Services: []string{"web"}, Timeout: &zero})
		}, false},
		{"an orphan kept", func(f *fakeHost) (Plan, error) {
			p := testProject()
			p.Services = p.Services[1:] // web is an orphan now
			return PlanDown(p, f.observe(p), DownOptions{Timeout: &zero})
		}, false},
		{"another project on its network", func(f *fakeHost) (Plan, error) {
			p := testProject()
			obs := f.observe(p)
			obs.Peers = []string{"other"}
			return PlanDown(p, obs, DownOptions{Timeout: &zero})
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := hostWithImages()
			up(t, f, testProject(), Options{})
			plan := must(t)(c.down(f))
			s := &sweptSeen{fakeHost: f, seen: map[string]bool{}}
			d := f.drivers()
			d.Containers = s
			if err := Apply(context.Background(), plan, d, 0, nil); err != nil {
				t.Fatal(err)
			}
			if len(s.seen) == 0 {
				t.Fatalf("nothing removed:\n%s", plan)
			}
			for _, name := range slices.Sorted(maps.Keys(s.seen)) {
				if s.seen[name] != c.swept {
					t.Errorf("removal of %s told its network's removal waits for its link: %v, want %v\n%s", name, s.seen[name], c.swept, plan)
				}
			}
			if c.swept && !slices.Contains(f.calls(), "remove-network shop_default") {
				t.Fatalf("the network's removal is not planned: %v", f.calls())
			}
		})
	}
}
