package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/spec"
)

func waits(p Plan) map[string]Action {
	out := map[string]Action{}
	for _, a := range p.Actions {
		if a.Kind == WaitReady || a.Kind == WaitExit || a.Kind == WaitHealthy {
			out[a.ID] = a
		}
	}
	return out
}

func TestWaitPlansAReadyWaitPerContainer(t *testing.T) {
	p := testProject()
	p.Services[0].DependsOn["db"] = spec.Dependency{Condition: "service_completed_successfully", Required: true}
	p.Services[2].Restart = "always"
	plan, err := PlanUp(p, hostWithImages().observe(p), Options{Wait: true, WaitTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ws := waits(plan)
	if len(ws) != 3 {
		t.Fatalf("want 3 waits, got:\n%s", plan)
	}
	// db is what api needs completed: its wait is that one, as Compose's --wait.
	if a, ok := ws["wait:shop-db-1"]; !ok || a.Timeout != 5*time.Second {
		t.Fatalf("db: want its completion wait with the timeout, got %+v\n%s", a, plan)
	}
	api, web := ws["wait-ready:shop-api-1"], ws["wait-ready:shop-web-1"]
	if api.Reason != "--wait" || !api.Completes || web.Completes {
		t.Fatalf("want api (restart no) allowed to complete, web (restart always) not: %+v %+v", api, web)
	}
	if len(api.After) != 1 || api.After[0] != "start:shop-api-1" {
		t.Fatalf("the wait must follow the start: %v", api.After)
	}
	if !strings.Contains(plan.String(), "wait for ready container shop-web-1") {
		t.Fatalf("plan text:\n%s", plan)
	}
}

func TestWaitOnAConvergedProjectWaitsForTheRunningOnes(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	plan, err := PlanUp(p, f.observe(p), Options{Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range plan.Actions {
		if a.Kind != WaitReady || len(a.After) != 0 {
			t.Fatalf("a converged project plans only waits:\n%s", plan)
		}
	}
	if len(plan.Actions) != 3 {
		t.Fatalf("want a wait per container:\n%s", plan)
	}
	if plan, _ := PlanUp(p, f.observe(p), Options{}); !plan.Empty() {
		t.Fatalf("without --wait nothing is planned:\n%s", plan)
	}
	if plan, _ := PlanUp(p, f.observe(p), Options{Wait: true, NoStart: true}); !plan.Empty() {
		t.Fatalf("--no-start waits for nothing:\n%s", plan)
	}
}

func TestWaitFailsNamingTheExitedContainer(t *testing.T) {
	for _, tc := range []struct {
		restart string
		code    int
		want    string
	}{
		{"no", 0, ""},
		{"no", 3, "container shop-db-1 exited (3)"},
		{"always", 0, "container shop-db-1 exited (0)"},
	} {
		f, p := hostWithImages(), testProject()
		p.Services[1].Restart = tc.restart
		f.exitCodes["shop-db-1"] = tc.code // it exits once started
		_, err := Converge(context.Background(), p, f, f.drivers(), Options{Wait: true}, nil)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("restart %s, exit %d: want %q, got %v", tc.restart, tc.code, tc.want, err)
		}
	}
}

func TestWaitTimeoutIsComposesError(t *testing.T) {
	a := Action{ID: "wait-ready:x", Kind: WaitReady, Target: "x", Timeout: 10 * time.Millisecond}
	err := wait(context.Background(), a, blocked{})
	if err == nil || err.Error() != "application not healthy after 10ms" {
		t.Fatalf("got %v", err)
	}
}

// blocked is a host whose containers never get ready.
type blocked struct{ Containers }

func (blocked) WaitReady(ctx context.Context, _ string) (bool, int, error) {
	<-ctx.Done()
	return false, 0, ctx.Err()
}

// reconcile --rollback waits only in passes that change something: a
// converged pass stays empty.
func TestWaitOnChangeWaitsOnlyAfterChanges(t *testing.T) {
	f, p := hostWithImages(), testProject()
	plan, err := PlanUp(p, f.observe(p), Options{WaitOnChange: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(waits(plan)) != 3 {
		t.Fatalf("a pass that starts the stack waits for it:\n%s", plan)
	}
	up(t, f, p, Options{})
	if plan, _ := PlanUp(p, f.observe(p), Options{WaitOnChange: true}); !plan.Empty() {
		t.Fatalf("a converged pass waits for nothing:\n%s", plan)
	}
}
