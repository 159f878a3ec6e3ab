package reconcile

import (
	"strings"

	"github.com/berth-dev/berth/spec"
)

// limitsReason is why a container kept (or only started) gets its cgroup
// limits changed in place: the limits that differ from those it was made
// or last updated with. A container that is made anew gets them at its
// creation; one that did not exist (ok false) has none to update.
func limitsReason(d decision, ok bool) string {
	// ok is false too with --no-recreate: nothing changes but a start.
	if !ok || (d.change != keep && d.change != start) {
		return ""
	}
	changed := spec.LimitsDiff(d.old.Spec, d.svc)
	if len(changed) == 0 {
		return ""
	}
	return strings.Join(changed, ", ") + " changed"
}

// updateLimits plans the in-place update of d's limits, before its start
// when the plan starts it.
func (pl *planner) updateLimits(d decision) {
	if d.limits == "" {
		return
	}
	pl.add(Action{ID: "update-limits:" + d.spec.Name, Kind: UpdateLimits, Target: d.spec.Name, Service: d.svc.Name,
		Reason: d.limits, Container: d.spec})
}
