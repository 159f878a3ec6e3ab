package reconcile

import (
	"fmt"
	"slices"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// StopOptions say which containers PlanStop and PlanRestart act on.
type StopOptions struct {
	Services []string       // only these services' containers; empty: all of the project's
	Timeout  *time.Duration // stop grace period overriding the services'
	// NoDeps restarts only the named services; otherwise those that
	// depend on them with depends_on restart: true are restarted too.
	NoDeps bool
}

// RemoveOptions change what PlanRemove removes.
type RemoveOptions struct {
	Services []string       // only these services' containers; empty: all of the project's
	Stop     bool           // stop running containers first; without it they stay
	Volumes  bool           // remove the containers' anonymous volumes too
	Timeout  *time.Duration // stop grace period overriding the services'
}

// PlanStop decides how to stop the project's running containers: each
// with its stop grace period, a container before those it depends on.
func PlanStop(p *spec.Project, obs Observed, o StopOptions) (Plan, error) {
	cs, err := selected(p, obs, o.Services)
	if err != nil {
		return Plan{}, err
	}
	pl := newPlanner(p.Name)
	stops := pl.planStops(p, cs, o.Timeout, "stop")
	pl.order(p, cs, stops, true)
	pl.sort()
	return pl.plan, nil
}

// PlanStart decides how to start the project's stopped containers, each
// after the containers it depends on. A container gone from the host
// cannot be started: `up` recreates it.
func PlanStart(p *spec.Project, obs Observed, services []string) (Plan, error) {
	cs, err := selected(p, obs, services)
	if err != nil {
		return Plan{}, err
	}
	pl := newPlanner(p.Name)
	starts := map[string]string{}
	for _, c := range cs {
		if c.State.Active() {
			continue
		}
		starts[c.Name] = pl.planStart(c, fmt.Sprintf("not running (%s, exit code %d)", c.State, c.ExitCode))
	}
	pl.order(p, cs, starts, false)
	return pl.finish()
}

// PlanRestart decides how to restart the project's containers: the
// running ones stop (dependents first), then all start again (what they
// depend on first).
func PlanRestart(p *spec.Project, obs Observed, o StopOptions) (Plan, error) {
	services := o.Services
	if len(services) > 0 && !o.NoDeps {
		services = restartDependents(p, services)
	}
	cs, err := selected(p, obs, services)
	if err != nil {
		return Plan{}, err
	}
	pl := newPlanner(p.Name)
	stops := pl.planStops(p, cs, o.Timeout, "restart")
	starts := map[string]string{}
	for _, c := range cs {
		starts[c.Name] = pl.planStart(c, "restart")
		pl.after(&pl.plan.Actions[pl.byID[starts[c.Name]]], stops[c.Name])
	}
	pl.order(p, cs, stops, true)
	pl.order(p, cs, starts, false)
	return pl.finish()
}

// restartDependents is services and, transitively, the services that
// depend on one of them with depends_on restart: true, as Docker
// Compose's restart picks them.
func restartDependents(p *spec.Project, services []string) []string {
	out := slices.Clone(services)
	for grew := true; grew; {
		grew = false
		for _, svc := range p.Services {
			if slices.Contains(out, svc.Name) {
				continue
			}
			for dep, d := range svc.DependsOn {
				if d.Restart && slices.Contains(out, dep) {
					out, grew = append(out, svc.Name), true
					break
				}
			}
		}
	}
	return out
}

// PlanRemove decides how to remove the project's stopped containers (the
// running ones too, stopped first, with Stop), with Volumes their
// anonymous volumes, and then to refresh the peers' /etc/hosts.
func PlanRemove(p *spec.Project, obs Observed, o RemoveOptions) (Plan, error) {
	cs, err := selected(p, obs, o.Services)
	if err != nil {
		return Plan{}, err
	}
	pl := newPlanner(p.Name)
	var gone []Container
	for _, c := range cs {
		if !c.State.Active() || o.Stop {
			gone = append(gone, c)
		}
	}
	stops := pl.planStops(p, gone, o.Timeout, "rm --stop")
	for _, c := range gone {
		rm := Action{ID: "remove:" + c.Name, Kind: Remove, Target: c.Name, Service: c.Service, Reason: "rm"}
		if id, ok := stops[c.Name]; ok {
			rm.After = []string{id}
		}
		pl.add(rm)
		if !o.Volumes {
			continue
		}
		for _, v := range c.Volumes {
			pl.add(Action{ID: "volume:" + v.Name, Kind: RemoveVolume, Target: v.Name, Reason: "anonymous volume of " + c.Name + " at " + v.Target + ", rm -v", After: []string{rm.ID}})
		}
	}
	pl.planHosts(obs.Peers)
	return pl.finish()
}

// planStops adds a Stop action for each active container of cs and
// returns their IDs by container name.
func (pl *planner) planStops(p *spec.Project, cs []Container, timeout *time.Duration, reason string) map[string]string {
	ids := map[string]string{}
	for _, c := range cs {
		if !c.State.Active() {
			continue
		}
		a := Action{ID: "stop:" + c.Name, Kind: Stop, Target: c.Name, Service: c.Service, Reason: reason, Timeout: grace(serviceOf(p, c), timeout)}
		pl.add(a)
		ids[c.Name] = a.ID
	}
	return ids
}

// planStart adds a Start action for container c, which must still exist.
func (pl *planner) planStart(c Container, reason string) string {
	if c.State == lifecycle.Missing {
		pl.fail("container %s is gone from the host: run `berth up` to recreate it", c.Name)
	}
	if c.Unplumbed {
		pl.fail("container %s lost its network namespace and files (the host restarted): run `berth up` or `berth boot` to bring it back", c.Name)
	}
	a := Action{ID: "start:" + c.Name, Kind: Start, Target: c.Name, Service: c.Service, Reason: reason}
	pl.add(a)
	return a.ID
}

// order makes the actions ids (by container name) follow the dependency
// graph of their containers' services: each after the actions of the
// containers its container depends on, or, reversed (stopping, removing),
// after those of the containers that depend on it.
func (pl *planner) order(p *spec.Project, cs []Container, ids map[string]string, reverse bool) {
	byService := map[string][]string{}
	for _, c := range cs {
		if id, ok := ids[c.Name]; ok {
			byService[c.Service] = append(byService[c.Service], id)
		}
	}
	for _, c := range cs {
		id, ok := ids[c.Name]
		if !ok {
			continue
		}
		for dep := range serviceOf(p, c).DependsOn {
			for _, other := range byService[dep] {
				if reverse {
					pl.after(&pl.plan.Actions[pl.byID[other]], id)
				} else {
					pl.after(&pl.plan.Actions[pl.byID[id]], other)
				}
			}
		}
	}
}

// serviceOf is the service container c belongs to as the project declares
// it now, or as it was recorded when the project no longer has it.
func serviceOf(p *spec.Project, c Container) spec.Service {
	if svc, ok := p.Service(c.Service); ok {
		return *svc
	}
	return c.Spec
}

// selected returns the project's observed containers of the named
// services, all of them when none is named; naming a service the project
// does not have is an error.
func selected(p *spec.Project, obs Observed, services []string) ([]Container, error) {
	for _, s := range services {
		if _, ok := p.Service(s); !ok {
			return nil, errNoService(s)
		}
	}
	if len(services) == 0 {
		return obs.Containers, nil
	}
	var out []Container
	for _, c := range obs.Containers {
		if slices.Contains(services, c.Service) {
			out = append(out, c)
		}
	}
	return out, nil
}

func errNoService(name string) error { return fmt.Errorf("no such service: %q", name) }
