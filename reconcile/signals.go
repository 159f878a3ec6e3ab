package reconcile

import (
	"errors"
	"fmt"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// KillOptions say which containers PlanKill signals, and with what.
type KillOptions struct {
	Services      []string // only these services' containers; empty: all of the project's
	RemoveOrphans bool     // signal the containers of services the project no longer has too
	Signal        lifecycle.Signal
}

// PlanKill decides which containers `kill` signals: every one of the
// selected services that runs, is paused or is restarting, all at once, as
// Docker Compose does; orphans only with RemoveOrphans. An empty plan is
// Docker Compose's "No container to kill".
func PlanKill(p *spec.Project, obs Observed, o KillOptions) (Plan, error) {
	cs, err := selected(p, obs, o.Services)
	if err != nil {
		return Plan{}, err
	}
	pl := newPlanner(p.Name)
	for _, c := range cs {
		if !c.State.Active() || isOrphan(p, c) && !o.RemoveOrphans {
			continue
		}
		sig := o.Signal
		pl.add(Action{ID: "kill:" + c.Name, Kind: Kill, Target: c.Name, Service: c.Service, Reason: sig.Name, Signal: &sig})
	}
	return pl.finish()
}

// PlanPause decides which containers `pause` freezes: the running ones of
// the selected services. As with Docker Compose, a stopped container is
// left out, and a paused or restarting one is a problem in the error
// returned beside the plan, which pauses the rest.
func PlanPause(p *spec.Project, obs Observed, services []string) (Plan, error) {
	return planFreeze(p, obs, services, Pause, func(c Container) error {
		switch c.State {
		case lifecycle.Paused:
			return fmt.Errorf("container %s is already paused", c.Name)
		case lifecycle.Restarting:
			return fmt.Errorf("container %s is restarting, wait until the container is running", c.Name)
		}
		return nil
	})
}

// PlanUnpause decides which containers `unpause` thaws: the paused ones of
// the selected services. A running container that is not paused is a
// problem in the error returned beside the plan, as with Docker Compose.
func PlanUnpause(p *spec.Project, obs Observed, services []string) (Plan, error) {
	return planFreeze(p, obs, services, Unpause, func(c Container) error {
		if c.State != lifecycle.Paused {
			return fmt.Errorf("container %s is not paused", c.Name)
		}
		return nil
	})
}

// planFreeze plans kind for each active container of the project's
// selected services that refuse accepts; one-off containers (berth run)
// are left alone, as Docker Compose leaves them.
func planFreeze(p *spec.Project, obs Observed, services []string, kind Kind, refuse func(Container) error) (Plan, error) {
	cs, err := selected(p, obs, services)
	if err != nil {
		return Plan{}, err
	}
	pl := newPlanner(p.Name)
	var errs []error
	for _, c := range cs {
		if !c.State.Active() || isOrphan(p, c) || c.OneOff {
			continue
		}
		if err := refuse(c); err != nil {
			errs = append(errs, err)
			continue
		}
		pl.add(Action{ID: string(kind) + ":" + c.Name, Kind: kind, Target: c.Name, Service: c.Service, Reason: string(kind)})
	}
	plan, _ := pl.finish()
	return plan, errors.Join(errs...)
}
