package reconcile

import (
	"context"
	"strings"
	"testing"
)

// planThenUp is `berth plan` followed by `berth up`: it returns what the
// plan printed and what up applied.
func planThenUp(t *testing.T, f *fakeHost, o Options) (printed, applied Plan) {
	t.Helper()
	p := testProject()
	printed = must(t)(PlanUp(p, f.observe(p), o))
	applied, err := Converge(context.Background(), p, f, f.drivers(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	return printed, applied
}

func TestPlanIsWhatUpApplies(t *testing.T) {
	f := hostWithImages()
	// A stack that needs its images pulled.
	printed, applied := planThenUp(t, f, Options{})
	if !printed.HasPulls() || printed.String() != applied.String() {
		t.Fatalf("plan printed:\n%s\nup applied:\n%s", printed, applied)
	}
	// A changed stack.
	p := testProject()
	p.Services[0].Environment["NAME"] = "changed"
	printed = must(t)(PlanUp(p, f.observe(p), Options{}))
	applied, err := Converge(context.Background(), p, f, f.drivers(), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(printed.String(), "+ create container shop-api-1 (environment.NAME changed)") || printed.String() != applied.String() {
		t.Fatalf("plan printed:\n%s\nup applied:\n%s", printed, applied)
	}
}

// With pull_policy always, the plan cannot know the pulled image before
// the pull: it says which containers up recreates if it differs, and up
// does exactly that.
func TestPlanSaysWhereUpDiffers(t *testing.T) {
	f := hostWithImages()
	up(t, f, testProject(), Options{})
	p := testProject()
	p.Services[2].PullPolicy = "always" // web
	f.registry["web:1"] = "sha256:w2"   // the registry has moved on
	printed := must(t)(PlanUp(p, f.observe(p), Options{}))
	want := "! image web:1 is pulled first: if the registry's differs from the local one, up also recreates shop-web-1\n"
	if !strings.HasPrefix(printed.String(), want) {
		t.Fatalf("plan must warn where up will differ:\n%s", printed)
	}
	applied, err := Converge(context.Background(), p, f, f.drivers(), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(applied.String(), "- remove container shop-web-1 (image changed (w1 -> w2))") {
		t.Fatalf("up applied:\n%s", applied)
	}
}

// warmingHost is a fakeHost that is a Warmer: a warm-up is a call in its
// log, with the plan's creations.
type warmingHost struct{ *fakeHost }

func (w warmingHost) Warm(p Plan) {
	var creates []string
	for _, a := range p.Actions {
		if a.Kind == Create {
			creates = append(creates, a.Target)
		}
	}
	_ = w.record("warm " + strings.Join(creates, ","))
}

// Converge warms a Warmer host with the plan it applies, before it applies
// it: after the pulls (whose plan it is not warmed with), before the first
// creation.
func TestConvergeWarmsTheHostBeforeApplying(t *testing.T) {
	f := hostWithImages()
	p := testProject()
	if _, err := Converge(context.Background(), p, warmingHost{f}, f.drivers(), Options{}, nil); err != nil {
		t.Fatal(err)
	}
	warm, lastPull, firstCreate := -1, -1, -1
	for i, call := range f.log {
		switch {
		case strings.HasPrefix(call, "warm "):
			if warm >= 0 {
				t.Fatalf("warmed twice: %q", f.log)
			}
			warm = i
			if !strings.Contains(call, "shop-api-1") {
				t.Errorf("warmed with %q, want the plan creating the containers", call)
			}
		case strings.HasPrefix(call, "pull "):
			lastPull = i
		case strings.HasPrefix(call, "create ") && firstCreate < 0:
			firstCreate = i
		}
	}
	if warm < 0 || lastPull < 0 || firstCreate < 0 || !(lastPull < warm && warm < firstCreate) {
		t.Fatalf("calls %q: want the pulls, then the warm-up, then the creations", f.log)
	}
}
