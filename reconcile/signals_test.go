package reconcile

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/lifecycle"
)

var sigkill = lifecycle.Signal{Number: 9, Name: "SIGKILL"}

func TestPlanKillGolden(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	f.calls()
	f.containers["shop-old-1"] = Container{Name: "shop-old-1", Service: "old", Number: 1, State: lifecycle.Running}
	usr1 := lifecycle.Signal{Number: 10, Name: "SIGUSR1"}
	golden(t, f, must(t)(PlanKill(p, f.observe(p), KillOptions{Services: []string{"api", "db"}, Signal: usr1})), `■ kill container shop-api-1 (SIGUSR1)
■ kill container shop-db-1 (SIGUSR1)
Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 2 to kill, 0 to remove.
`)
	if calls := f.calls(); len(calls) != 2 || !strings.Contains(strings.Join(calls, ","), "kill shop-db-1 SIGUSR1") {
		t.Fatalf("kill calls: %v", calls)
	}
	golden(t, f, must(t)(PlanKill(p, f.observe(p), KillOptions{Signal: sigkill})), `■ kill container shop-api-1 (SIGKILL)
■ kill container shop-db-1 (SIGKILL)
■ kill container shop-web-1 (SIGKILL)
Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 3 to kill, 0 to remove.
`)
	if f.containers["shop-web-1"].State != lifecycle.Exited || f.containers["shop-old-1"].State != lifecycle.Running {
		t.Fatalf("after kill: %+v", f.containers)
	}
	plan := must(t)(PlanKill(p, f.observe(p), KillOptions{Signal: sigkill, RemoveOrphans: true}))
	if plan.String() != "■ kill container shop-old-1 (SIGKILL)\nPlan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to kill, 0 to remove.\n" {
		t.Fatalf("kill --remove-orphans signals the orphans too, and no stopped container:\n%s", plan)
	}
	delete(f.containers, "shop-old-1")
	if plan := must(t)(PlanKill(p, f.observe(p), KillOptions{Signal: sigkill})); !plan.Empty() {
		t.Fatalf("nothing runs, nothing to kill:\n%s", plan)
	}
	if _, err := PlanKill(p, f.observe(p), KillOptions{Services: []string{"nope"}, Signal: sigkill}); err == nil {
		t.Fatal("killing an unknown service must fail")
	}
}

func TestPlanPauseAndUnpauseGolden(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	f.containers["shop-db-run-1"] = Container{Name: "shop-db-run-1", Service: "db", OneOff: true, State: lifecycle.Running}
	golden(t, f, must(t)(PlanPause(p, f.observe(p), []string{"web", "db"})), `‖ pause container shop-db-1 (pause)
‖ pause container shop-web-1 (pause)
Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 2 to pause, 0 to remove.
`)
	if f.containers["shop-web-1"].State != lifecycle.Paused {
		t.Fatalf("after pause: %+v", f.containers["shop-web-1"])
	}
	// Docker Compose pauses what runs and reports what is already paused.
	plan, err := PlanPause(p, f.observe(p), nil)
	if plan.String() != "‖ pause container shop-api-1 (pause)\nPlan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to pause, 0 to remove.\n" ||
		err == nil || !strings.Contains(err.Error(), "container shop-db-1 is already paused") || !strings.Contains(err.Error(), "container shop-web-1 is already paused") {
		t.Fatalf("pause of a partly paused project:\n%s%v", plan, err)
	}
	// A stopped container is left out of both, without complaint.
	c := f.containers["shop-api-1"]
	c.State = lifecycle.Exited
	f.containers["shop-api-1"] = c
	golden(t, f, must(t)(PlanUnpause(p, f.observe(p), nil)), `> unpause container shop-db-1 (unpause)
> unpause container shop-web-1 (unpause)
Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 2 to unpause, 0 to remove.
`)
	if f.containers["shop-web-1"].State != lifecycle.Running {
		t.Fatalf("after unpause: %+v", f.containers["shop-web-1"])
	}
	if plan, err := PlanUnpause(p, f.observe(p), []string{"web"}); !plan.Empty() || err == nil || !strings.Contains(err.Error(), "container shop-web-1 is not paused") {
		t.Fatalf("unpause of a running container:\n%s%v", plan, err)
	}
	if _, err := PlanPause(p, f.observe(p), []string{"nope"}); err == nil {
		t.Fatal("pausing an unknown service must fail")
	}
}

// A paused container is active: stop and down plan its stop, up keeps it,
// kill signals it.
func TestPausedContainerIsActive(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	c := f.containers["shop-db-1"]
	c.State = lifecycle.Paused
	f.containers["shop-db-1"] = c
	if plan := must(t)(PlanUp(p, f.observe(p), Options{})); !plan.Empty() {
		t.Fatalf("up of a project with a paused container plans:\n%s", plan)
	}
	if plan := must(t)(PlanStop(p, f.observe(p), StopOptions{Services: []string{"db"}})); len(plan.Actions) != 1 || plan.Actions[0].Kind != Stop {
		t.Fatalf("stop of a paused container:\n%s", plan)
	}
	if plan := must(t)(PlanKill(p, f.observe(p), KillOptions{Services: []string{"db"}, Signal: sigkill})); len(plan.Actions) != 1 {
		t.Fatalf("kill of a paused container:\n%s", plan)
	}
}
