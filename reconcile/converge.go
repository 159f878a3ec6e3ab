package reconcile

import (
	"context"

	"github.com/berth-dev/berth/spec"
)

// Observer reads what is on the host for a project.
type Observer interface {
	Observe(ctx context.Context, p *spec.Project) (Observed, error)
}

// Converge is one reconcile pass, what `berth up` does: observe, plan,
// pull what is missing, observe and plan again now that the images (and
// so their digests) are known, and apply. It returns the applied plan.
func Converge(ctx context.Context, p *spec.Project, host Observer, d Drivers, o Options, events func(Event)) (Plan, error) {
	plan, err := observeAndPlan(ctx, p, host, o)
	if err != nil || !plan.HasPulls() {
		if err != nil {
			return plan, err
		}
		return plan, Apply(ctx, plan, d, 0, events)
	}
	if err := Apply(ctx, plan.Only(Pull), d, 0, events); err != nil {
		return plan, err
	}
	o.SkipPull = true
	if plan, err = observeAndPlan(ctx, p, host, o); err != nil {
		return plan, err
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
