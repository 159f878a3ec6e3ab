package reconcile

import (
	"slices"

	"github.com/berth-dev/berth/spec"
)

// PlanPull decides how to pull the images of the named services (all when
// none is named), each image once, all in parallel.
func PlanPull(p *spec.Project, services []string) (Plan, error) {
	for _, s := range services {
		if _, ok := p.Service(s); !ok {
			return Plan{}, errNoService(s)
		}
	}
	pl := newPlanner(p.Name)
	for _, svc := range p.Services {
		if id := pullID(svc.Image); (len(services) == 0 || slices.Contains(services, svc.Name)) && !pl.has(id) {
			pl.add(Action{ID: id, Kind: Pull, Target: svc.Image, Service: svc.Name, Reason: "berth pull", Platform: svc.Platform})
		}
	}
	return pl.finish()
}

// PlanPullImage is the plan of `image pull REF`: one pull.
func PlanPullImage(ref, platform string) Plan {
	return Plan{Actions: []Action{{ID: pullID(ref), Kind: Pull, Target: ref, Reason: "image pull", Platform: platform}}}
}

// PlanPushImage is the plan of `image push REF`: one push.
func PlanPushImage(ref string) Plan {
	return Plan{Actions: []Action{{ID: "push:" + ref, Kind: Push, Target: ref, Reason: "image push"}}}
}

// Inventory is what berth has made on the host across projects, with what
// uses each object: what a prune decides on.
type Inventory struct {
	Networks []Object
	Volumes  []Object
}

// Object is one network or volume of an Inventory.
type Object struct {
	Name      string
	Anonymous bool     // an anonymous volume (one of an image's VOLUMEs, or a bare `- /path`)
	Users     []string // the containers using it
}

// PlanPruneNetworks decides which networks `network prune` removes: every
// one no container uses.
func PlanPruneNetworks(inv Inventory) Plan {
	var p Plan
	for _, n := range inv.Networks {
		if len(n.Users) == 0 {
			p.Actions = append(p.Actions, Action{ID: "network:" + n.Name, Kind: RemoveNetwork, Target: n.Name, Reason: "no container uses it"})
		}
	}
	return p
}

// PlanPruneVolumes decides which volumes `volume prune` removes: the
// anonymous ones no container uses, with all every unused one.
func PlanPruneVolumes(inv Inventory, all bool) Plan {
	var p Plan
	for _, v := range inv.Volumes {
		if len(v.Users) == 0 && (all || v.Anonymous) {
			p.Actions = append(p.Actions, Action{ID: "volume:" + v.Name, Kind: RemoveVolume, Target: v.Name, Reason: "no container uses it"})
		}
	}
	return p
}
