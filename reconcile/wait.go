package reconcile

import (
	"slices"

	"github.com/berth-dev/berth/spec"
)

// planWait adds, for up --wait, what Docker Compose waits for once the
// services are started: each selected service's containers running, and
// healthy when they have a health check; a service another depends on
// with service_completed_successfully exited with code 0 instead. A
// service's existing dependency waits are reused. With WaitOnChange the
// waits come only after other actions.
func (pl *planner) planWait(p *spec.Project, services []spec.Service, o Options) {
	if o.NoStart || !(o.Wait || o.WaitOnChange && len(pl.plan.Actions) > 0) {
		return
	}
	for _, svc := range services {
		if completedDependency(p, svc.Name) {
			pl.require(pl.waitFor(svc.Name, WaitExit, "--wait: a dependent needs it to complete successfully", o))
			continue
		}
		for _, id := range pl.waitFor(svc.Name, WaitReady, "--wait", o) {
			pl.plan.Actions[pl.byID[id]].Completes = oneShot(svc)
		}
	}
}

// completedDependency reports whether a service of p depends on name
// with condition service_completed_successfully.
func completedDependency(p *spec.Project, name string) bool {
	return slices.ContainsFunc(p.Services, func(s spec.Service) bool {
		d, ok := s.DependsOn[name]
		return ok && d.Condition == "service_completed_successfully"
	})
}

// oneShot reports whether svc is never restarted: a container of it that
// exited with code 0 has done its job.
func oneShot(svc spec.Service) bool { return svc.Restart == "" || svc.Restart == "no" }
