package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// golden checks a plan's text form, and that applying it to f succeeds.
func golden(t *testing.T, f *fakeHost, plan Plan, want string) {
	t.Helper()
	if got := plan.String(); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
}

// before reports whether call a came before call b.
func before(calls []string, a, b string) bool {
	i, j := slices.Index(calls, a), slices.Index(calls, b)
	return i >= 0 && j >= 0 && i < j
}

func TestPlanStopGolden(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	f.calls()
	golden(t, f, must(t)(PlanStop(p, f.observe(p), StopOptions{})), `■ stop container shop-api-1 (stop)
■ stop container shop-db-1 (stop)
■ stop container shop-web-1 (stop)
Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 3 to stop, 0 to remove.
`)
	if calls := f.calls(); !before(calls, "stop shop-web-1", "stop shop-api-1") || !before(calls, "stop shop-api-1", "stop shop-db-1") {
		t.Fatalf("dependents must stop first: %v", calls)
	}
	if again := must(t)(PlanStop(p, f.observe(p), StopOptions{})); !again.Empty() {
		t.Fatalf("stopping stopped containers plans:\n%s", again)
	}
	if _, err := PlanStop(p, f.observe(p), StopOptions{Services: []string{"nope"}}); err == nil {
		t.Fatal("stopping an unknown service must fail")
	}
}

func TestPlanStopTimeouts(t *testing.T) {
	f, p := hostWithImages(), testProject()
	grace := 3 * time.Second
	p.Services[1].StopGracePeriod = &grace // db
	up(t, f, p, Options{})
	timeouts := func(o StopOptions) map[string]time.Duration {
		out := map[string]time.Duration{}
		for _, a := range must(t)(PlanStop(p, f.observe(p), o)).Actions {
			out[a.Target] = a.Timeout
		}
		return out
	}
	got := timeouts(StopOptions{})
	if got["shop-db-1"] != grace || got["shop-web-1"] != lifecycle.DefaultStopGrace {
		t.Fatalf("grace periods: %v", got)
	}
	zero := time.Duration(0)
	if got := timeouts(StopOptions{Timeout: &zero, Services: []string{"db"}}); len(got) != 1 || got["shop-db-1"] != 0 {
		t.Fatalf("-t 0 db: %v", got)
	}
}

func TestPlanStartGolden(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	if err := Apply(context.Background(), must(t)(PlanStop(p, f.observe(p), StopOptions{Services: []string{"db", "web"}})), f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	f.calls()
	golden(t, f, must(t)(PlanStart(p, f.observe(p), nil)), `> start container shop-db-1 (not running (exited, exit code 137))
> start container shop-web-1 (not running (exited, exit code 137))
Plan: 0 to pull, 0 to create, 0 to recreate, 2 to start, 0 to remove.
`)
	c := f.containers["shop-db-1"]
	c.State = lifecycle.Missing
	f.containers["shop-db-1"] = c
	if _, err := PlanStart(p, f.observe(p), []string{"db"}); err == nil {
		t.Fatal("starting a container gone from the host must fail, and say to run up")
	}
}

func TestPlanRestartGolden(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	f.calls()
	golden(t, f, must(t)(PlanRestart(p, f.observe(p), StopOptions{Services: []string{"api", "db"}})), `■ stop container shop-api-1 (restart)
■ stop container shop-db-1 (restart)
> start container shop-api-1 (restart)
> start container shop-db-1 (restart)
Plan: 0 to pull, 0 to create, 0 to recreate, 2 to start, 2 to stop, 0 to remove.
`)
	calls := f.calls()
	if !before(calls, "stop shop-api-1", "stop shop-db-1") || !before(calls, "stop shop-db-1", "start shop-db-1") || !before(calls, "start shop-db-1", "start shop-api-1") {
		t.Fatalf("restart order: %v", calls)
	}
}

func TestPlanRestartTakesDependentsThatAskForIt(t *testing.T) {
	f, p := hostWithImages(), testProject() // web depends on api, api on db
	p.Services[2].DependsOn["api"] = spec.Dependency{Condition: "service_started", Required: true, Restart: true}
	up(t, f, p, Options{})
	restarted := func(o StopOptions) string {
		t.Helper()
		var got []string
		for _, a := range must(t)(PlanRestart(p, f.observe(p), o)).Only(Start).Actions {
			got = append(got, a.Target)
		}
		return strings.Join(got, " ")
	}
	if got := restarted(StopOptions{Services: []string{"db"}}); got != "shop-db-1" {
		t.Errorf("restart db (api depends on it without restart: true): %s", got)
	}
	if got := restarted(StopOptions{Services: []string{"api"}}); got != "shop-api-1 shop-web-1" {
		t.Errorf("restart api takes web, which asks for it: %s", got)
	}
	if got := restarted(StopOptions{Services: []string{"api"}, NoDeps: true}); got != "shop-api-1" {
		t.Errorf("restart --no-deps api: %s", got)
	}
}

func TestPlanRemoveGolden(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[1].Mounts = append(p.Services[1].Mounts, spec.Mount{Type: spec.MountVolume, Target: "/scratch"}) // db
	up(t, f, p, Options{})
	anon := anonymousName("shop", "shop-db-1", "/scratch")
	if plan := must(t)(PlanRemove(p, f.observe(p), RemoveOptions{})); !plan.Empty() {
		t.Fatalf("rm without --stop must leave running containers:\n%s", plan)
	}
	golden(t, f, must(t)(PlanRemove(p, f.observe(p), RemoveOptions{Services: []string{"db"}, Stop: true, Volumes: true})), `■ stop container shop-db-1 (rm --stop)
- remove container shop-db-1 (rm)
~ update /etc/hosts of project shop (the project's containers changed)
- remove volume `+anon+` (anonymous volume of shop-db-1 at /scratch, rm -v)
Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 2 to remove.
`)
	if calls := f.calls(); !before(calls, "stop shop-db-1", "remove shop-db-1") || !before(calls, "remove shop-db-1", "remove-volume "+anon) {
		t.Fatalf("rm order: %v", calls)
	}
	if f.volumes[anon] || !f.volumes["shop_data"] {
		t.Fatalf("rm -v removes the anonymous volume only: %v", f.volumes)
	}
}

// Anonymous volumes are in the plan, with where they come from: a bare
// container path, or a VOLUME of the image. A recreated container keeps
// its predecessor's.
func TestAnonymousVolumesInThePlan(t *testing.T) {
	f, p := hostWithImages(), testProject()
	f.imageVols["web:1"] = []string{"/cache", "/data"}
	p.Services[2].Mounts = []spec.Mount{{Type: spec.MountVolume, Target: "/data"}, {Type: spec.MountBind, Source: "/srv", Target: "/cache"}} // web
	up(t, f, p, Options{})                                                                                                                   // pulls web:1 first, so its VOLUMEs are known
	p.Services[2].Mounts = p.Services[2].Mounts[:1]                                                                                          // the bind goes: the image's /cache needs a volume now
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	data, cache := anonymousName("shop", "shop-web-1", "/data"), anonymousName("shop", "shop-web-1", "/cache")
	want := "+ create volume " + cache + " (anonymous, image VOLUME /cache)\n"
	if !strings.HasPrefix(plan.String(), want) || strings.Contains(plan.String(), "create volume "+data) {
		t.Fatalf("plan:\n%s\nwant it to start with:\n%s(and keep %s)", plan, want, data)
	}
	var create *Action
	for i, a := range plan.Actions {
		if a.Kind == Create {
			create = &plan.Actions[i]
		}
	}
	if create.Container.Anonymous["/data"] != data || create.Container.Anonymous["/cache"] != cache || !slices.Contains(create.After, "volume:"+cache) {
		t.Fatalf("the created container's anonymous volumes: %+v after %v", create.Container.Anonymous, create.After)
	}
	applied, err := Converge(context.Background(), p, f, f.drivers(), Options{}, nil)
	if err != nil || applied.String() != plan.String() {
		t.Fatalf("up applied (%v):\n%s\nplan printed:\n%s", err, applied, plan)
	}
}

func TestPlanDownGoldenWithOrphans(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	f.containers["shop-old-1"] = Container{Name: "shop-old-1", Service: "old", Number: 1, State: lifecycle.Running}
	golden(t, f, must(t)(PlanDown(p, f.observe(p), DownOptions{})), `! found orphan container shop-old-1 for service "old", not in the project: remove it with --remove-orphans
- remove container shop-api-1 (down)
- remove container shop-db-1 (down)
- remove container shop-web-1 (down)
- remove network shop_default (down)
Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 4 to remove.
`)
	plan := must(t)(PlanDown(p, f.observe(p), DownOptions{RemoveOrphans: true}))
	if plan.String() != "- remove container shop-old-1 (down)\nPlan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to remove.\n" {
		t.Fatalf("down --remove-orphans:\n%s", plan)
	}
}

func TestPlanPullGolden(t *testing.T) {
	p := testProject()
	golden(t, hostWithImages(), must(t)(PlanPull(p, Observed{}, PullOptions{})), `↓ pull image busybox (berth pull)
↓ pull image web:1 (berth pull)
Plan: 2 to pull, 0 to create, 0 to recreate, 0 to start, 0 to remove.
`)
	if got := must(t)(PlanPull(p, Observed{}, PullOptions{Services: []string{"web"}})).String(); got != "↓ pull image web:1 (berth pull)\nPlan: 1 to pull, 0 to create, 0 to recreate, 0 to start, 0 to remove.\n" {
		t.Fatalf("pull web:\n%s", got)
	}
	f := hostWithImages()
	golden(t, f, PlanPullImage("web:1", ""), "↓ pull image web:1 (image pull)\nPlan: 1 to pull, 0 to create, 0 to recreate, 0 to start, 0 to remove.\n")
	golden(t, f, PlanPushImage("web:1"), "↑ push image web:1 (image push)\nPlan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to push, 0 to remove.\n")
}

func TestPlanPullOptions(t *testing.T) {
	p := testProject() // web depends on api, api on db
	pulls := func(obs Observed, o PullOptions) string {
		t.Helper()
		var got []string
		for _, a := range must(t)(PlanPull(p, obs, o)).Actions {
			got = append(got, a.Service+"="+a.Target)
		}
		return strings.Join(got, " ")
	}
	if got := pulls(Observed{}, PullOptions{Services: []string{"web"}, IncludeDeps: true}); got != "api=busybox web=web:1" {
		t.Errorf("--include-deps: %s", got)
	}
	present := Observed{Images: map[string]string{"busybox": "sha256:b0", "web:1": "sha256:w1"}}
	if got := pulls(present, PullOptions{Policy: "missing"}); got != "api=busybox" {
		t.Errorf("--policy missing pulls a present image only when its tag is latest: %s", got)
	}
	if got := pulls(present, PullOptions{Policy: "always"}); got != "api=busybox web=web:1" {
		t.Errorf("--policy always: %s", got)
	}
	p.Services[2].PullPolicy = "never"
	if got := pulls(Observed{}, PullOptions{}); got != "api=busybox" {
		t.Errorf("pull_policy never is skipped: %s", got)
	}
	if _, err := PlanPull(p, Observed{}, PullOptions{Policy: "sometimes"}); err == nil {
		t.Error("--policy sometimes accepted")
	}
	if got := must(t)(PlanPush(p, []string{"web"}, true)).String(); !strings.Contains(got, "↑ push image busybox (berth push)\n↑ push image web:1") {
		t.Errorf("push web --include-deps:\n%s", got)
	}
	if _, err := PlanPush(p, []string{"nosuch"}, false); err == nil {
		t.Error("push of an unknown service planned")
	}
	for ref, want := range map[string]bool{"busybox": true, "busybox:latest": true, "localhost:5000/app": true, "localhost:5000/app:1": false, "app@sha256:ab": false} {
		if latestTag(ref) != want {
			t.Errorf("latestTag(%q) = %v", ref, !want)
		}
	}
}

func TestPlanPrunes(t *testing.T) {
	inv := Inventory{
		Networks: []Object{{Name: "a_default", Users: []string{"a-web-1"}}, {Name: "b_default"}},
		Volumes:  []Object{{Name: "a_data"}, {Name: "anon-used", Anonymous: true, Users: []string{"a-web-1"}}, {Name: "anon-free", Anonymous: true}},
	}
	if got := PlanPruneNetworks(inv).String(); got != "- remove network b_default (no container uses it)\nPlan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to remove.\n" {
		t.Fatalf("network prune:\n%s", got)
	}
	if got := PlanPruneVolumes(inv, false).String(); got != "- remove volume anon-free (no container uses it)\nPlan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to remove.\n" {
		t.Fatalf("volume prune:\n%s", got)
	}
	if got := PlanPruneVolumes(inv, true); len(got.Actions) != 2 {
		t.Fatalf("volume prune --all:\n%s", got)
	}
}

func TestPlanCreateAndRemoveObjects(t *testing.T) {
	inv := Inventory{
		Networks: []Object{{Name: "used", Users: []string{"a-web-1"}}, {Name: "free"}},
		Volumes:  []Object{{Name: "data", Users: []string{"a-db-1"}}, {Name: "old"}},
	}
	if _, err := PlanCreateNetwork(inv, spec.Network{Name: "free"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("creating a network that exists: %v", err)
	}
	if p := must(t)(PlanCreateNetwork(inv, spec.Network{Name: "new"})); p.String() != "+ create network new (network create)\nPlan: 0 to pull, 1 to create, 0 to recreate, 0 to start, 0 to remove.\n" {
		t.Errorf("network create:\n%s", p)
	}
	if p := PlanCreateVolume(inv, spec.Volume{Name: "old"}); !p.Empty() {
		t.Errorf("creating a volume that exists changes nothing:\n%s", p)
	}
	p, err := PlanRemoveNetworks(inv, []string{"used", "free", "nope"})
	if p.String() != "- remove network free (network rm)\nPlan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to remove.\n" ||
		err == nil || !strings.Contains(err.Error(), "network used is in use by container a-web-1") || !strings.Contains(err.Error(), "no such network: nope") {
		t.Errorf("network rm:\n%s%v", p, err)
	}
	p, err = PlanRemoveVolumes(inv, []string{"data", "old"})
	if len(p.Actions) != 1 || p.Actions[0].Target != "old" || err == nil || !strings.Contains(err.Error(), "volume data is in use by container a-db-1") {
		t.Errorf("volume rm:\n%s%v", p, err)
	}
}
