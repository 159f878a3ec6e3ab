package reconcile

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/berth-dev/berth/spec"
)

// Watch converges, then repairs drift and follows edits of the stack file
// on later passes, and survives a pass that fails.
func TestWatchRepairsAndFollows(t *testing.T) {
	f, p := hostWithImages(), testProject()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loads := 0
	load := func(context.Context) (*spec.Project, error) {
		loads++
		if loads == 3 {
			return nil, errors.New("compose.yaml: broken for a moment")
		}
		return p, nil
	}
	var passes []Pass
	Watch(ctx, load, f, f.drivers(), Options{}, time.Millisecond, nil, nil, func(ps Pass) {
		passes = append(passes, ps)
		switch len(passes) {
		case 1: // converged from nothing; now someone removes a container by hand
			delete(f.containers, "shop-web-1")
		case 2: // repaired; now the file changes
			p.Services[0].Environment = map[string]string{"NAME": "api", "V": "2"}
		case 5:
			cancel()
		}
	})
	if len(passes) != 5 {
		t.Fatalf("%d passes", len(passes))
	}
	if passes[0].Err != nil || passes[0].Plan.Empty() {
		t.Fatalf("first pass: %+v", passes[0])
	}
	if a := passes[1].Plan.Actions; len(a) == 0 || a[0].Target != "shop-web-1" || a[0].Kind != Create {
		t.Fatalf("the removed container was not made again:\n%s", passes[1].Plan)
	}
	if passes[2].Err == nil {
		t.Fatal("the broken load must be reported")
	}
	if a := passes[3].Plan.Actions; len(a) == 0 || a[0].Kind != Remove || a[0].Reason != "environment.V changed" {
		t.Fatalf("the edit was not followed:\n%s", passes[3].Plan)
	}
	if !passes[4].Plan.Empty() || passes[4].Err != nil {
		t.Fatalf("not converged at the end: %+v", passes[4])
	}
}
