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
// pull what the plan pulls, then, now that the images (and so their IDs)
// are known, observe and plan the rest again, check it if host is a
// Checker, and apply it. It returns the plan it applied: the pulls, then
// the rest. That is the plan `berth plan` prints, except where a pull
// brings an image other than the local one, which PlanUp warns of.
func Converge(ctx context.Context, p *spec.Project, host Observer, d Drivers, o Options, events func(Event)) (Plan, error) {
	plan, err := observeAndPlan(ctx, p, host, o)
	if err != nil {
		return plan, err
	}
	if !plan.HasPulls() {
		return plan, checkAndApply(ctx, host, plan, d, events)
	}
	pulls := plan.Only(Pull)
	if err := Apply(ctx, pulls, d, 0, events); err != nil {
		return pulls, err
	}
	o.SkipPull = true
	rest, err := observeAndPlan(ctx, p, host, o)
	applied := rest
	applied.Actions = append(pulls.Actions, rest.Actions...)
	applied.Warnings = plan.Warnings
	if err != nil {
		return applied, err
	}
	return applied, checkAndApply(ctx, host, rest, d, events)
}

// checkAndApply checks plan, if host can, and applies it.
func checkAndApply(ctx context.Context, host Observer, plan Plan, d Drivers, events func(Event)) error {
	if c, ok := host.(Checker); ok {
		if err := c.Check(ctx, plan); err != nil {
			return err
		}
	}
	return Apply(ctx, plan, d, 0, events)
}

func observeAndPlan(ctx context.Context, p *spec.Project, host Observer, o Options) (Plan, error) {
	obs, err := host.Observe(ctx, p)
	if err != nil {
		return Plan{}, err
	}
	return PlanUp(p, obs, o)
}
