package reconcile

import (
	"slices"
	"time"
)

// DownOptions change what PlanDown removes.
type DownOptions struct {
	Services      []string       // only these services' containers; networks and volumes stay while others remain
	RemoveVolumes bool           // also remove the project's named volumes
	Timeout       *time.Duration // stop grace period overriding the services'
}

// PlanDown decides, without any I/O, how to remove everything berth made for
// a project: its containers (dependents before what they depend on), then
// its networks, then, with RemoveVolumes, its volumes. External networks and
// volumes are never in obs as recorded, so they are never removed.
func PlanDown(project string, obs Observed, o DownOptions) Plan {
	pl := newPlanner(project)
	if len(o.Services) > 0 {
		var some []Container
		for _, c := range obs.Containers {
			if slices.Contains(o.Services, c.Service) {
				some = append(some, c)
			}
		}
		if len(some) < len(obs.Containers) {
			// Other services keep running: the networks and volumes stay theirs.
			obs = Observed{Containers: some}
		}
		obs.Containers = some
	}
	for _, c := range obs.Containers {
		id := "container:" + c.Name
		pl.add(Action{ID: id, Kind: Remove, Target: c.Name, Service: c.Service, Reason: "down", Timeout: stopTimeout(c.Spec, Options{Timeout: o.Timeout})})
		pl.byServ[c.Service] = append(pl.byServ[c.Service], id)
	}
	// A container goes before the containers it depends on.
	var removals []string
	for _, c := range obs.Containers {
		a := &pl.plan.Actions[pl.byID["container:"+c.Name]]
		for dep := range c.Spec.DependsOn {
			for _, id := range pl.byServ[dep] {
				pl.after(&pl.plan.Actions[pl.byID[id]], a.ID)
			}
		}
		removals = append(removals, a.ID)
	}
	for _, name := range sortedKeys(obs.Networks) {
		if obs.Networks[name].Recorded {
			pl.add(Action{ID: "network:" + name, Kind: RemoveNetwork, Target: name, Reason: "down", After: removals})
		}
	}
	if o.RemoveVolumes {
		for _, name := range sortedKeys(obs.Volumes) {
			if obs.Volumes[name].Recorded {
				pl.add(Action{ID: "volume:" + name, Kind: RemoveVolume, Target: name, Reason: "down -v", After: removals})
			}
		}
	}
	pl.sort()
	return pl.plan
}
