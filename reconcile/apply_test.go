package reconcile

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"
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
