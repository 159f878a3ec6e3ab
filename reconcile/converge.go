package reconcile

import (
	"context"

	"github.com/berth-dev/berth/internal/phase"

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

// Warmer is a host that readies, as a plan's first actions begin, what
// its later ones will need (the engine: the process that starts
// containers, which then starts beside the creation of networks and
// containers instead of at the first start).
type Warmer interface {
	Warm(p Plan)
}

// Converge is one reconcile pass, what `berth up` does: observe, plan,
// pull what the plan pulls, then, now that the images (and so their IDs)
// are known, observe and plan the rest again, check it if host is a
// Checker, and apply it. It returns the plan it applied: the pulls, then
// the rest. That is the plan `berth plan` prints, except where a pull
// brings an image other than the local one, which PlanUp warns of.
func Converge(ctx context.Context, p *spec.Project, host Observer, d Drivers, o Options, events func(Event)) (Plan, error) {
	return converge(ctx, p, host, d, events, func(obs Observed, pre Plan) (Plan, error) {
		o.SkipPull, o.SkipBuild, o.Rebuilt = !pre.Empty(), !pre.Empty(), pre.Targets(Build)
		return PlanUp(p, obs, o)
	})
}

// ConvergeRun is Converge for `berth run`: PlanRun's plan, its pulls
// first, then the rest planned again.
func ConvergeRun(ctx context.Context, p *spec.Project, host Observer, d Drivers, o RunOptions, events func(Event)) (Plan, error) {
	return converge(ctx, p, host, d, events, func(obs Observed, pre Plan) (Plan, error) {
		o.SkipPull, o.SkipBuild, o.Rebuilt = !pre.Empty(), !pre.Empty(), pre.Targets(Build)
		return PlanRun(p, obs, o)
	})
}

// converge observes and plans with plan, applies the pulls and builds the
// plan has, then observes and plans again (pre: the pulls and builds done)
// and applies the rest.
func converge(ctx context.Context, p *spec.Project, host Observer, d Drivers, events func(Event), plan func(obs Observed, pre Plan) (Plan, error)) (Plan, error) {
	observeAndPlan := func(pre Plan) (Plan, error) {
		end := phase.Start("", "observe")
		obs, err := host.Observe(ctx, p)
		end()
		if err != nil {
			return Plan{}, err
		}
		defer phase.Start("", "plan")()
		return plan(obs, pre)
	}
	first, err := observeAndPlan(Plan{})
	if err != nil {
		return first, err
	}
	pulls := first.Prepare()
	if pulls.Empty() {
		return first, checkAndApply(ctx, host, first, d, events)
	}
	if err := Apply(ctx, pulls, d, 0, events); err != nil {
		return pulls, err
	}
	rest, err := observeAndPlan(pulls)
	applied := rest
	applied.Actions = append(pulls.Actions, rest.Actions...)
	applied.Warnings = first.Warnings
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
	if w, ok := host.(Warmer); ok {
		w.Warm(plan)
	}
	defer phase.Start("", "apply")()
	return Apply(ctx, plan, d, 0, events)
}
