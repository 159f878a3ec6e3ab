package reconcile

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// startFirstProject is testProject with web published on 8080 and updated
// start-first.
func startFirstProject(scale int, u spec.UpdateConfig) *spec.Project {
	p := testProject()
	web := &p.Services[2]
	web.Scale = scale
	web.Ports = []spec.Port{{Target: 80, Published: spec.PortRange{Lo: 8080, Hi: 8080}, Protocol: "tcp"}}
	u.Order = spec.StartFirst
	web.Update = &u
	return p
}

func TestStartFirstPlanOrder(t *testing.T) {
	f, p := hostWithImages(), startFirstProject(1, spec.UpdateConfig{})
	up(t, f, p, Options{})
	p.Services[2].Environment = map[string]string{"NAME": "web", "FOO": "bar"}
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	want := `+ create container shop-web-2 (start-first replacement of shop-web-1: environment.FOO changed)
> start container shop-web-2 (start-first replacement of shop-web-1: environment.FOO changed)
… wait for ready container shop-web-2 (start-first: shop-web-2 takes over from shop-web-1 once running, and healthy when it has a health check)
~ switch ports of web from shop-web-1 to shop-web-2 (start-first: in one nftables transaction, the published ports lead to the new container instead of the old one)
… drain connections of container shop-web-1 (start-first: the connections shop-web-1 still serves end first, within its stop grace period (10s))
- remove container shop-web-1 (start-first: replaced by shop-web-2)
- remove container shop-web-2 (failure_action rollback: only if shop-web-2 does not get ready; shop-web-1 keeps running)
~ update /etc/hosts of project shop (start-first: the names of service web lead to shop-web-2 now)
~ update /etc/hosts of project shop (the project's containers changed)
Plan: 0 to pull, 0 to create, 1 to recreate, 0 to start, 0 to remove.
`
	if got := planText(plan); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	var create ContainerSpec
	for _, a := range plan.Actions {
		if a.Kind == Create {
			create = *a.Container
		}
	}
	if !create.Standby || create.Number != 2 {
		t.Errorf("the successor: standby %v, number %d; want a standby number 2", create.Standby, create.Number)
	}
	f.calls()
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	calls := f.calls()
	for _, pair := range [][2]string{{"start shop-web-2", "wait-ready shop-web-2"}, {"wait-ready shop-web-2", "switch-ports shop-web-1 shop-web-2"},
		{"switch-ports shop-web-1 shop-web-2", "refresh-hosts shop"},
		{"switch-ports shop-web-1 shop-web-2", "drain shop-web-1"}, {"drain shop-web-1", "remove shop-web-1"}} {
		if !before(calls, pair[0], pair[1]) {
			t.Errorf("%q must come before %q: %v", pair[0], pair[1], calls)
		}
	}
	if slices.Contains(calls, "remove shop-web-2") {
		t.Errorf("the rollback ran after a good rollout: %v", calls)
	}
	if _, ok := f.containers["shop-web-1"]; ok {
		t.Error("the old container is still there")
	}
	// The new number is kept: the next up plans nothing.
	if again := must(t)(PlanUp(p, f.observe(p), Options{})); !again.Empty() {
		t.Fatalf("second plan:\n%s", again)
	}
	// And the next rollout goes back to the free number 1.
	p.Services[2].Environment = map[string]string{"NAME": "web", "FOO": "baz"}
	next := must(t)(PlanUp(p, f.observe(p), Options{}))
	if !slices.Contains(next.Targets(SwitchPorts), "shop-web-1") {
		t.Fatalf("next rollout:\n%s", next)
	}
}

// planText is the plan's text form without the actions of other services.
func planText(p Plan) string {
	var keep []Action
	for _, a := range p.Actions {
		if a.Service == "web" || a.Kind == RefreshHosts {
			keep = append(keep, a)
		}
	}
	p.Actions = keep
	return p.String()
}

func TestStartFirstRollsBackAFailedContainer(t *testing.T) {
	f, p := hostWithImages(), startFirstProject(1, spec.UpdateConfig{})
	up(t, f, p, Options{})
	p.Services[2].Environment = map[string]string{"NAME": "web", "FOO": "bar"}
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	f.fail["wait-ready shop-web-2"] = errors.New("unhealthy")
	f.calls()
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err == nil || !strings.Contains(err.Error(), "unhealthy") {
		t.Fatalf("Apply: %v, want the readiness failure", err)
	}
	calls := f.calls()
	if slices.Contains(calls, "switch-ports shop-web-1 shop-web-2") || slices.Contains(calls, "remove shop-web-1") {
		t.Errorf("ports switched or old stopped after a failed rollout: %v", calls)
	}
	if !slices.Contains(calls, "remove shop-web-2") {
		t.Errorf("the new container was not rolled back: %v", calls)
	}
	if c := f.containers["shop-web-1"]; c.State != lifecycle.Running {
		t.Errorf("the old container is %s, want running", c.State)
	}
}

func TestStartFirstBatches(t *testing.T) {
	f, p := hostWithImages(), startFirstProject(3, spec.UpdateConfig{Parallelism: 2, Delay: time.Millisecond})
	up(t, f, p, Options{})
	p.Services[2].Environment = map[string]string{"NAME": "web", "FOO": "bar"}
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	// shop-web-1..3 are replaced by 4 and 5, then 6, after a delay.
	after := map[string][]string{}
	for _, a := range plan.Actions {
		after[a.ID] = a.After
	}
	if !slices.Contains(after["delay:web:1"], "remove:shop-web-1") || !slices.Contains(after["delay:web:1"], "remove:shop-web-2") ||
		!slices.Contains(after["create:shop-web-6"], "delay:web:1") {
		t.Fatalf("batches not chained: delay after %v, create 6 after %v\n%s", after["delay:web:1"], after["create:shop-web-6"], plan)
	}
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range f.containers {
		if strings.HasPrefix(n, "shop-web-") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"shop-web-4", "shop-web-5", "shop-web-6"}) {
		t.Fatalf("containers after the rollout: %v", names)
	}
	if again := must(t)(PlanUp(p, f.observe(p), Options{})); !again.Empty() {
		t.Fatalf("second plan:\n%s", again)
	}
	// Scaling down keeps the lowest numbers.
	p.Services[2].Scale = 1
	down := must(t)(PlanUp(p, f.observe(p), Options{}))
	if got := removed(down); !slices.Equal(got, []string{"shop-web-5", "shop-web-6"}) {
		t.Fatalf("scale down removes %v", got)
	}
}

func TestStopFirstStaysTheDefault(t *testing.T) {
	f, p := hostWithImages(), startFirstProject(1, spec.UpdateConfig{})
	p.Services[2].Update = nil
	up(t, f, p, Options{})
	p.Services[2].Environment = map[string]string{"NAME": "web", "FOO": "bar"}
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	if got := chain(plan, "shop-web-1"); !slices.Equal(got, []Kind{Remove, Create, Start}) {
		t.Fatalf("stop-first chain %v", got)
	}
}

func TestSlotsKeepCurrentContainersFirst(t *testing.T) {
	c := func(n int, hash string) Container {
		return Container{Name: spec.ContainerName("p", "s", n), Number: n, Hash: hash, State: lifecycle.Running}
	}
	keep, extra := slots([]Container{c(1, "old"), c(3, "new"), c(4, "new")}, 2, "new")
	if len(keep) != 2 || keep[0].number != 3 || keep[1].number != 4 || len(extra) != 1 || extra[0].Number != 1 {
		t.Fatalf("keep %+v extra %+v", keep, extra)
	}
	keep, _ = slots([]Container{c(2, "new")}, 3, "new")
	if len(keep) != 3 || keep[0].number != 1 || keep[0].ok || keep[1].number != 2 || !keep[1].ok || keep[2].number != 3 {
		t.Fatalf("keep %+v", keep)
	}
}

// The old container's connections are drained only when its ports moved
// (it publishes some) and it has a grace period to drain them in: not
// with -t 0, not for a service without published ports.
func TestStartFirstDrainsWithinTheGracePeriod(t *testing.T) {
	f, p := hostWithImages(), startFirstProject(1, spec.UpdateConfig{})
	up(t, f, p, Options{})
	p.Services[2].Environment = map[string]string{"NAME": "web", "FOO": "bar"}
	grace := 3 * time.Second
	p.Services[2].StopGracePeriod = &grace
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	var drain Action
	for _, a := range plan.Actions {
		if a.Kind == Drain {
			drain = a
		}
	}
	if drain.Target != "shop-web-1" || drain.Timeout != grace || !slices.Equal(drain.After, []string{"switch:shop-web-2"}) {
		t.Fatalf("drain %+v:\n%s", drain, plan)
	}
	zero := time.Duration(0)
	if plan := must(t)(PlanUp(p, f.observe(p), Options{Timeout: &zero})); slices.Contains(kinds(plan), Drain) {
		t.Errorf("-t 0 drains:\n%s", plan)
	}
	p.Services[2].Ports = nil
	if plan := must(t)(PlanUp(p, f.observe(p), Options{})); slices.Contains(kinds(plan), Drain) {
		t.Errorf("a service without published ports drains:\n%s", plan)
	}
}

// kinds are the kinds of p's actions, in order.
func kinds(p Plan) []Kind {
	var out []Kind
	for _, a := range p.Actions {
		out = append(out, a.Kind)
	}
	return out
}
