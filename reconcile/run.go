package reconcile

import (
	"fmt"

	"github.com/berth-dev/berth/spec"
)

// RunOptions say what `berth run` makes: one one-off container of a
// service, with the service as the run's flags change it.
type RunOptions struct {
	Service       spec.Service // the service, its command, ports, volumes... as run changes them
	Name          string       // the one-off container's name: <project>-<service>-run-<12 hex>, or --name
	NoDeps        bool         // bring up none of the services it depends on
	RemoveOrphans bool
	SkipPull      bool     // plan no pulls (images were just pulled)
	SkipBuild     bool     // plan no builds (images were just built)
	Rebuilt       []string // images just built
}

// PlanRun decides, without any I/O, what `berth run` does: the services
// the service depends on brought up as `up` would (unless NoDeps), the
// networks and volumes it needs, and the creation and start of its
// one-off container once its dependencies are as depends_on asks. The
// service's own containers are left as they are.
func PlanRun(p *spec.Project, obs Observed, o RunOptions) (Plan, error) {
	svc := o.Service
	if _, ok := p.Service(svc.Name); !ok {
		return Plan{}, errNoService(svc.Name)
	}
	for _, c := range obs.Containers {
		if c.Name == o.Name {
			return Plan{}, fmt.Errorf("a container named %q already exists", o.Name)
		}
	}
	var deps []spec.Service
	if o.NoDeps {
		svc.DependsOn = nil
	} else {
		names := make([]string, 0, len(svc.DependsOn))
		for name, d := range svc.DependsOn {
			if !absentOptional(p, name, d) {
				names = append(names, name)
			}
		}
		var err error
		if len(names) > 0 {
			if deps, err = selectServices(p, names, false); err != nil {
				return Plan{}, err
			}
		}
	}
	svc.Scale, svc.Restart = 1, "no" // Docker Compose's: a one-off is never restarted
	cs := containerSpec(p, svc, o.Name, 1, containerHash(p, svc))
	cs.OneOff = true
	pl := newPlanner(p.Name)
	pl.planServices(p, deps, []decision{{svc: svc, spec: cs, change: create, reason: "one-off container of service " + svc.Name}},
		obs, Options{RemoveOrphans: o.RemoveOrphans, SkipPull: o.SkipPull, SkipBuild: o.SkipBuild, Rebuilt: o.Rebuilt})
	return pl.finish()
}

// PlanRemoveOneOff decides how `run --rm` removes its one-off container
// name once it has ended: the container (stopped first if it still runs),
// then its anonymous volumes.
func PlanRemoveOneOff(p *spec.Project, obs Observed, name string) (Plan, error) {
	pl := newPlanner(p.Name)
	for _, c := range obs.Containers {
		if c.Name != name || !c.OneOff {
			continue
		}
		stops := pl.planStops(p, []Container{c}, nil, "run --rm")
		rm := Action{ID: "remove:" + c.Name, Kind: Remove, Target: c.Name, Service: c.Service, Reason: "run --rm"}
		if id, ok := stops[c.Name]; ok {
			rm.After = []string{id}
		}
		pl.add(rm)
		for _, v := range c.Volumes {
			pl.add(Action{ID: "volume:" + v.Name, Kind: RemoveVolume, Target: v.Name, Reason: "anonymous volume of " + c.Name + " at " + v.Target + ", run --rm", After: []string{rm.ID}})
		}
		pl.planHosts(obs.Peers)
	}
	return pl.finish()
}
