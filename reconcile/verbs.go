package reconcile

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-dev/berth/spec"
)

// PullOptions say what `berth pull` pulls.
type PullOptions struct {
	Services    []string // only these services' images; empty: every service's
	IncludeDeps bool     // also the images of the services they depend on
	// Policy ("missing" or "always") overrides each service's pull_policy;
	// "" keeps it.
	Policy string
}

// PlanPull is the plan of `berth pull`: each selected service's image,
// once, as Docker Compose's pull decides: a pull_policy of never (or
// build) skips it; --policy missing skips an image the host has, unless
// its tag is latest, which may have moved; otherwise, the user having
// asked for a pull, it is pulled.
func PlanPull(p *spec.Project, obs Observed, o PullOptions) (Plan, error) {
	services, err := selectImages(p, o.Services, o.IncludeDeps)
	if err != nil {
		return Plan{}, err
	}
	switch o.Policy {
	case "", "missing", "always":
	default:
		return Plan{}, fmt.Errorf(`--policy %q: must be "missing" or "always"`, o.Policy)
	}
	pl := newPlanner(p.Name)
	for _, svc := range services {
		policy := first(o.Policy, svc.PullPolicy)
		_, present := obs.Images[svc.Image]
		switch id := pullID(svc.Image); {
		case pl.has(id), policy == "never", policy == "build", svc.Build != nil: // built, not pulled
		case o.Policy == "missing" && present && !latestTag(svc.Image):
		default:
			pl.add(Action{ID: id, Kind: Pull, Target: svc.Image, Service: svc.Name, Reason: "berth pull", Platform: svc.Platform})
		}
	}
	return pl.finish()
}

// PlanPush is the plan of `berth push`: each selected service's image
// (with includeDeps, its dependencies' too), once.
func PlanPush(p *spec.Project, services []string, includeDeps bool) (Plan, error) {
	selected, err := selectImages(p, services, includeDeps)
	if err != nil {
		return Plan{}, err
	}
	pl := newPlanner(p.Name)
	for _, svc := range selected {
		if id := "push:" + svc.Image; !pl.has(id) {
			pl.add(Action{ID: id, Kind: Push, Target: svc.Image, Service: svc.Name, Reason: "berth push"})
		}
	}
	return pl.finish()
}

// selectImages is the services whose images pull and push act on: the
// named ones (with includeDeps, and those they depend on), or all.
func selectImages(p *spec.Project, names []string, includeDeps bool) ([]spec.Service, error) {
	if len(names) == 0 {
		return p.Services, nil
	}
	services, err := selectServices(p, names, false)
	if err != nil || includeDeps {
		return services, err
	}
	return slices.DeleteFunc(slices.Clone(services), func(s spec.Service) bool { return !slices.Contains(names, s.Name) }), nil
}

// latestTag reports whether ref names the tag latest, written or implied.
func latestTag(ref string) bool {
	if strings.Contains(ref, "@") {
		return false
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, ok := strings.Cut(name, ":")
	return !ok || tag == "latest"
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
	Images   []ImageEntry
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

// PlanCreateNetwork is the plan of `network create`: one network, for
// stacks to use as external; one of that name must not exist.
func PlanCreateNetwork(inv Inventory, n spec.Network) (Plan, error) {
	if _, ok := findObject(inv.Networks, n.Name); ok {
		return Plan{}, fmt.Errorf("network with name %s already exists", n.Name)
	}
	return Plan{Actions: []Action{{ID: "network:" + n.Name, Kind: CreateNetwork, Target: n.Name, Reason: "network create", Network: &n, Key: n.Name}}}, nil
}

// PlanCreateVolume is the plan of `volume create`: one volume, for stacks
// to use as external. Creating one that exists changes nothing, as in Docker.
func PlanCreateVolume(inv Inventory, v spec.Volume) Plan {
	if _, ok := findObject(inv.Volumes, v.Name); ok {
		return Plan{}
	}
	return Plan{Actions: []Action{{ID: "volume:" + v.Name, Kind: CreateVolume, Target: v.Name, Reason: "volume create", Volume: &v, Key: v.Name}}}
}

// PlanRemoveNetworks is the plan of `network rm`: the named networks that
// exist and no container uses. Each other name is a problem in the error
// returned beside the plan, which removes the rest, as Docker does.
func PlanRemoveNetworks(inv Inventory, names []string) (Plan, error) {
	return planRemove(inv.Networks, names, "network", RemoveNetwork)
}

// PlanRemoveVolumes is the plan of `volume rm`, as PlanRemoveNetworks.
func PlanRemoveVolumes(inv Inventory, names []string) (Plan, error) {
	return planRemove(inv.Volumes, names, "volume", RemoveVolume)
}

func planRemove(objs []Object, names []string, what string, kind Kind) (Plan, error) {
	var p Plan
	var errs []error
	for _, name := range names {
		o, ok := findObject(objs, name)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("no such %s: %s", what, name))
		case len(o.Users) > 0:
			errs = append(errs, fmt.Errorf("%s %s is in use by container %s", what, name, strings.Join(o.Users, ", ")))
		default:
			p.Actions = append(p.Actions, Action{ID: what + ":" + name, Kind: kind, Target: name, Reason: what + " rm"})
		}
	}
	return p, errors.Join(errs...)
}

// findObject is the object of objs named name.
func findObject(objs []Object, name string) (Object, bool) {
	i := slices.IndexFunc(objs, func(o Object) bool { return o.Name == name })
	if i < 0 {
		return Object{}, false
	}
	return objs[i], true
}
