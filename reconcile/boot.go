package reconcile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// bootReason is why boot starts a container.
const bootReason = "restart policy %s: the host started"

// PlanBoot decides what `berth boot` does for project p once the host has
// started: as Docker's daemon at its start, it brings back each container
// whose restart policy is "always", or "unless-stopped" when the user did
// not stop it, keeping the container (its writable layer, addresses and
// volumes): the networks it needs are made again, its plumbing restored,
// then it starts, after what it depends on. Every other container stays
// as it is. p is the project as recorded (engine.RecordedProject), its
// configs and secrets from the sources its containers recorded: one whose
// files cannot be written again as it had them stays down, with why.
func PlanBoot(p *spec.Project, obs Observed) (Plan, error) {
	pl := newPlanner(p.Name)
	cs := slices.Clone(obs.Containers)
	slices.SortFunc(cs, func(a, b Container) int { return strings.Compare(a.Name, b.Name) })
	starts := map[string]string{}
	for _, c := range cs {
		policy := c.Spec.Restart
		if c.OneOff || c.State.Active() || !(policy == "always" || policy == "unless-stopped" && !c.Stopped) {
			continue
		}
		if c.Hash == "" || c.State == lifecycle.Missing {
			pl.plan.Warnings = append(pl.plan.Warnings, fmt.Sprintf("container %s is not whole on the host: `berth up` remakes it", c.Name))
			continue
		}
		cs := containerSpec(p, c.Spec, c.Name, c.Number, c.Hash)
		if why := unrestorable(c, cs); c.Unplumbed && why != "" {
			pl.plan.Warnings = append(pl.plan.Warnings, fmt.Sprintf("container %s stays down: %s: run `berth up` in its project", c.Name, why))
			continue
		}
		reason := fmt.Sprintf(bootReason, policy)
		var after []string
		for _, key := range sortedKeys(c.Spec.Networks) {
			after = append(after, pl.bootNetwork(p, key, obs)...)
		}
		start := Action{ID: "start:" + c.Name, Kind: Start, Target: c.Name, Service: c.Service, Reason: reason, After: after}
		if c.Unplumbed {
			restore := Action{ID: "restore:" + c.Name, Kind: Restore, Target: c.Name, Service: c.Service, Reason: unplumbedReason,
				After: after, Container: cs}
			pl.add(restore)
			start.After = []string{restore.ID}
		}
		pl.add(start)
		starts[c.Name] = start.ID
	}
	pl.order(p, cs, starts, false)
	for name, id := range starts { // a restore follows what its container depends on, as its start does
		if r, ok := pl.byID["restore:"+name]; ok {
			start := pl.plan.Actions[pl.byID[id]]
			for _, dep := range start.After {
				if dep != pl.plan.Actions[r].ID {
					pl.after(&pl.plan.Actions[r], dep)
				}
			}
		}
	}
	return pl.finish()
}

// bootNetwork plans the creation of network key of p when its bridge is
// gone, once, and returns the IDs a container on it waits for.
func (pl *planner) bootNetwork(p *spec.Project, key string, obs Observed) []string {
	n, ok := p.Networks[key]
	if !ok || obs.Networks[n.Name].Exists {
		return nil
	}
	id := "network:" + n.Name
	if !pl.has(id) {
		if n.External || !obs.Networks[n.Name].Recorded {
			pl.fail("network %s is gone from the host and is not this project's to make", n.Name)
			return nil
		}
		pl.add(Action{ID: id, Kind: CreateNetwork, Target: n.Name, Reason: "its bridge or its firewall rules are gone from the host", Network: &n, Key: key})
	}
	return []string{id}
}
