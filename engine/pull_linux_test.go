package engine

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// pushBusybox serves a busybox image whose CMD prints a greeting from an
// in-process registry on 127.0.0.1 and returns its reference.
func pushBusybox(t *testing.T) string {
	t.Helper()
	ref := testutil.Registry(t, nil) + "/test/busybox:1"
	testutil.PushBusybox(t, ref, []string{"sh", "-c", "echo pulled-image-runs; exec sleep 1000"}, nil)
	return ref
}

// up pulls a missing image from a plain-HTTP loopback registry, as Docker
// does without configuration, and runs it with the image's CMD.
func TestUpPullsFromLoopbackRegistry(t *testing.T) {
	h := newHost(t)
	ref := pushBusybox(t)
	p := h.load("services:\n  app:\n    image: " + ref + "\n")
	plan, err := reconcile.PlanUp(p, mustObserve(t, h, p), reconcile.Options{})
	if err != nil || !plan.HasPulls() {
		t.Fatalf("plan must pull the missing image: %v\n%s", err, plan)
	}
	if applied := h.mustUp(p); applied.String() != plan.String() {
		t.Fatalf("what plan printed is not what up applied:\n%s\nup:\n%s", plan, applied)
	}
	h.waitLog(spec.ContainerName(h.project, "app", 1), "pulled-image-runs")
	if again := mustPlan(t, h, p); !again.Empty() {
		t.Fatalf("a second plan is not empty:\n%s", again)
	}
}

func mustObserve(t *testing.T, h *host, p *spec.Project) reconcile.Observed {
	t.Helper()
	obs, err := h.e.Observe(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func mustPlan(t *testing.T, h *host, p *spec.Project) reconcile.Plan {
	t.Helper()
	plan, err := reconcile.PlanUp(p, mustObserve(t, h, p), reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// What `berth plan` prints on the real host is what `up` then applies,
// for a new stack (with an anonymous volume) and for a changed one.
func TestPlanIsWhatUpApplies(t *testing.T) {
	h := newHost(t)
	stack := func(v string) *spec.Project {
		return h.load("services:\n  a:\n    image: berth-test/busybox:1\n    command: [sleep, '1000']\n    volumes: [/scratch]\n    environment: {V: '" + v + "'}\n  b:\n    image: berth-test/busybox:1\n    command: [sleep, '1000']\n")
	}
	for _, v := range []string{"1", "2"} {
		p := stack(v)
		printed := mustPlan(t, h, p)
		if applied := h.mustUp(p); printed.Empty() || applied.String() != printed.String() {
			t.Fatalf("V=%s: plan printed:\n%s\nup applied:\n%s", v, printed, applied)
		}
		if anon := strings.Contains(printed.String(), "(anonymous, /scratch of service a)"); anon != (v == "1") {
			t.Fatalf("V=%s: the anonymous volume is planned once, when first made:\n%s", v, printed)
		}
	}
}
