package reconcile

import (
	"context"

	"github.com/berth-dev/berth/spec"
)

// Observer reads what is on the host for a project.
type Observer interface {
	Observe(ctx context.Context, p *spec.Project) (Observed, error)
}

// Checker finds, before anything changes, the problems that would make a
// plan fail half-way (a missing bind source, a bad volume option), and
// reports all of them at once.
type Checker interface {
	Check(ctx context.Context, p Plan) error
}

// Converge is one reconcile pass, what `berth up` does: observe, plan,
// pull what is missing, observe and plan again now that the images (and
// so their digests) are known, check the plan if host is a Checker, and
// apply. It returns the applied plan.
func Converge(ctx context.Context, p *spec.Project, host Observer, d Drivers, o Options, events func(Event)) (Plan, error) {
	plan, err := observeAndPlan(ctx, p, host, o)
	if err != nil {
		return plan, err
	}
	if plan.HasPulls() {
		if err := Apply(ctx, plan.Only(Pull), d, 0, events); err != nil {
			return plan, err
		}
		o.SkipPull = true
		if plan, err = observeAndPlan(ctx, p, host, o); err != nil {
			return plan, err
		}
	}
	if c, ok := host.(Checker); ok {
		if err := c.Check(ctx, plan); err != nil {
			return plan, err
		}
	}
	return plan, Apply(ctx, plan, d, 0, events)
}

func observeAndPlan(ctx context.Context, p *spec.Project, host Observer, o Options) (Plan, error) {
	obs, err := host.Observe(ctx, p)
	if err != nil {
		return Plan{}, err
	}
	return PlanUp(p, obs, o)
}
