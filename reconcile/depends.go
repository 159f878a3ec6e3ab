package reconcile

import (
	"slices"

	"github.com/berth-dev/berth/spec"
)

// gateOnDependencies orders svc's containers after the services it
// depends on, as Docker Compose does: each container is created once its
// dependencies' containers are (so every container exists before any
// waits), and started once each dependency is as its condition asks —
// started, healthy, or exited with code 0. A dependency that fails its
// condition so leaves its dependents created, not started.
//
// Two creations wait for the condition too: a one-off container (`berth
// run` makes it once its dependencies are up) and a container that joins
// a dependency's namespace (network_mode, ipc or pid service:), which must be
// running. With o.NoStart only creations are ordered.
//
// A dependency with required: false gates softly: its failure does not
// hold its dependents back, and a wait no dependent requires is Optional
// (its failure is a warning).
//
// A container whose start so waits for other starts, and for no health or
// exit, is prepared at its creation (see prepareBehindStarts).
func (pl *planner) gateOnDependencies(svc spec.Service, o Options) {
	behindStarts, behindLong := false, false
	for _, dep := range sortedKeys(svc.DependsOn) {
		d := svc.DependsOn[dep]
		var gate []string
		if !o.NoStart {
			gate = pl.condition(dep, d, o)
		}
		for _, id := range pl.creates[svc.Name] {
			a := &pl.plan.Actions[pl.byID[id]]
			if o.NoStart || !(a.Container.OneOff || sharesNamespaceOf(svc, dep)) {
				pl.gateOn(a, pl.creates[dep], d.Required)
				continue
			}
			pl.gateOn(a, gate, d.Required)
		}
		for _, id := range pl.byServ[svc.Name] {
			pl.gateOn(&pl.plan.Actions[pl.byID[id]], gate, d.Required)
		}
		if c := d.Condition; c == "service_healthy" || c == "service_completed_successfully" {
			behindLong = true // a health or an exit may take long
		} else if len(gate) > 0 {
			behindStarts = true
		}
	}
	if behindStarts && !behindLong {
		pl.prepareBehindStarts(svc.Name)
	}
}

// prepareBehindStarts has the containers svc's plan creates and starts
// prepared at their creation (ContainerSpec.Prestart), one-offs aside:
// their starts wait for the starts of their dependencies, and their
// preparation (nearly all of a start) runs meanwhile. Only those: a
// container whose start follows its own creation gains nothing from a
// preparation and pays for holding it (a cold up -d of 50 independent
// services cost 16% more CPU and 17% more time with every container
// prepared), and one whose start waits for a health or an exit would hold
// its init and its shim's memory for what may take long.
func (pl *planner) prepareBehindStarts(svc string) {
	for _, id := range pl.creates[svc] {
		if a := &pl.plan.Actions[pl.byID[id]]; a.Container != nil {
			a.Container.Prestart = !a.Container.OneOff
		}
	}
}

// condition returns the actions that make dependency dep as d's condition
// asks: the waits for its health or its exit (added once), else its
// containers' starts.
func (pl *planner) condition(dep string, d spec.Dependency, o Options) []string {
	kind, reason := WaitHealthy, "a dependent needs it healthy"
	switch d.Condition {
	case "service_completed_successfully":
		kind, reason = WaitExit, "a dependent needs it to complete successfully"
	case "service_healthy":
	default:
		return pl.byServ[dep]
	}
	_, seen := pl.waits[dep+"/"+string(kind)]
	ids := pl.waitFor(dep, kind, reason, o)
	for _, id := range ids {
		a := &pl.plan.Actions[pl.byID[id]]
		if !seen || d.Required {
			a.Optional = !d.Required
		}
	}
	return ids
}

// require marks the waits ids as needed by something that does not
// tolerate their failure (up --wait).
func (pl *planner) require(ids []string) {
	for _, id := range ids {
		pl.plan.Actions[pl.byID[id]].Optional = false
	}
}

// gateOn orders a after each of gate; softly when the dependency is not
// required.
func (pl *planner) gateOn(a *Action, gate []string, required bool) {
	for _, g := range gate {
		pl.after(a, g)
		if !required && pl.has(g) && !slices.Contains(a.Soft, g) {
			a.Soft = append(a.Soft, g)
		}
	}
}

// sharesNamespaceOf reports whether svc joins a namespace of service dep
// (network_mode, ipc or pid service:dep).
func sharesNamespaceOf(svc spec.Service, dep string) bool {
	return slices.ContainsFunc(sharedNamespaces(svc), func(sh sharedNamespace) bool { return sh.service == dep })
}

// absentOptional reports whether dependency dep (d) is optional and not
// in the project (its profile is not enabled): Docker Compose then
// neither brings it up nor waits for it.
func absentOptional(p *spec.Project, dep string, d spec.Dependency) bool {
	_, ok := p.Service(dep)
	return !ok && !d.Required
}
