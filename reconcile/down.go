package reconcile

import (
	"time"

	"github.com/berth-dev/berth/spec"
)

// DownOptions change what PlanDown removes.
type DownOptions struct {
	Services      []string       // only these services' containers; networks and volumes stay while others remain
	RemoveVolumes bool           // also remove the project's named volumes
	RemoveOrphans bool           // also remove containers of services the project no longer has
	Timeout       *time.Duration // stop grace period overriding the services'
}

// PlanDown decides, without any I/O, how to remove everything berth made for
// project p: its containers (dependents before what they depend on), then
// its networks, then, with RemoveVolumes, its volumes. External networks and
// volumes are never in obs as recorded, so they are never removed. Orphan
// containers stay, with a warning, unless RemoveOrphans.
func PlanDown(p *spec.Project, obs Observed, o DownOptions) (Plan, error) {
	pl := newPlanner(p.Name)
	var all []Container
	kept := false
	for _, c := range obs.Containers {
		if isOrphan(p, c) && !o.RemoveOrphans {
			pl.warnOrphan(c)
			kept = true
			continue
		}
		all = append(all, c)
	}
	obs.Containers = all
	peers := obs.Peers
	cs, err := selected(p, obs, o.Services)
	if err != nil {
		return Plan{}, err
	}
	if len(cs) < len(all) {
		// Other services keep running: the networks and volumes stay theirs.
		obs = Observed{}
	}
	// With every container of the project going and no other project's
	// on its networks, the networks' removal after them is sure to find
	// them unused: it waits for their links, which they then need not.
	var swept []string
	if !kept && len(cs) == len(all) && len(peers) == 0 {
		for _, name := range sortedKeys(obs.Networks) {
			if obs.Networks[name].Recorded {
				swept = append(swept, name)
			}
		}
	}
	removals := map[string]string{}
	var after []string
	for _, c := range cs {
		id := "remove:" + c.Name
		pl.add(Action{ID: id, Kind: Remove, Target: c.Name, Service: c.Service, Reason: "down", Timeout: grace(serviceOf(p, c), o.Timeout), SweptBy: swept})
		removals[c.Name] = id
		after = append(after, id)
	}
	pl.order(p, cs, removals, true)
	for _, name := range sortedKeys(obs.Networks) {
		if obs.Networks[name].Recorded {
			pl.add(Action{ID: "network:" + name, Kind: RemoveNetwork, Target: name, Reason: "down", After: after})
		}
	}
	// The project's own files go with its containers; its peers' list them.
	pl.refreshHosts(len(o.Services) > 0 && len(cs) < len(all), peers)
	if o.RemoveVolumes {
		for _, name := range sortedKeys(obs.Volumes) {
			if obs.Volumes[name].Recorded {
				pl.add(Action{ID: "volume:" + name, Kind: RemoveVolume, Target: name, Reason: "down -v", After: after})
			}
		}
	}
	return pl.finish()
}
