package reconcile

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// testProject is a three-service stack: web depends on api, api on db; db
// keeps data in a named volume; all on the default network.
func testProject() *spec.Project {
	nets := map[string]spec.ServiceNetwork{"default": {}}
	svc := func(name, image string, deps ...string) spec.Service {
		s := spec.Service{Name: name, Image: image, PullPolicy: "missing", Networks: nets, Scale: 1,
			Environment: map[string]string{"NAME": name}, DependsOn: map[string]spec.Dependency{}}
		for _, d := range deps {
			s.DependsOn[d] = spec.Dependency{Condition: "service_started", Required: true}
		}
		return s
	}
	db := svc("db", "busybox")
	db.Mounts = []spec.Mount{{Type: spec.MountVolume, Source: "data", Target: "/data"}}
	return &spec.Project{
		Name:     "shop",
		Services: []spec.Service{svc("api", "busybox", "db"), db, svc("web", "web:1", "api")},
		Networks: map[string]spec.Network{"default": {Name: "shop_default", Driver: "bridge"}},
		Volumes:  map[string]spec.Volume{"data": {Name: "shop_data", Driver: "local"}},
	}
}

func hostWithImages() *fakeHost {
	f := newFakeHost()
	f.registry["busybox"] = "sha256:b0"
	f.registry["web:1"] = "sha256:w1"
	return f
}

// chain is the kinds of the plan's actions on container target, in order.
func chain(p Plan, target string) []Kind {
	var out []Kind
	for _, a := range p.Actions {
		if a.Target == target && a.Kind != RefreshHosts {
			out = append(out, a.Kind)
		}
	}
	return out
}

// must returns a plan that must have been made without error.
func must(t *testing.T) func(Plan, error) Plan {
	return func(p Plan, err error) Plan {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// up is what `berth up` does.
func up(t *testing.T, f *fakeHost, p *spec.Project, o Options) Plan {
	t.Helper()
	plan, err := Converge(context.Background(), p, f, f.drivers(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestFreshPlanGolden(t *testing.T) {
	p := testProject()
	plan, err := PlanUp(p, newFakeHost().observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `↓ pull image busybox (not present)
↓ pull image web:1 (not present)
+ create network shop_default (does not exist)
+ create volume shop_data (does not exist)
+ fill volume shop_data (it is new: copy /data of image busybox into it)
+ create container shop-api-1 (new container)
+ create container shop-db-1 (new container)
+ create container shop-web-1 (new container)
> start container shop-api-1 (new container)
> start container shop-db-1 (new container)
> start container shop-web-1 (new container)
~ update /etc/hosts of project shop (the project's containers changed)
Plan: 2 to pull, 5 to create, 0 to recreate, 0 to start, 0 to remove.
`
	if got := plan.String(); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	after := map[string][]string{}
	for _, a := range plan.Actions {
		after[a.ID] = a.After
	}
	if got := after["create:shop-web-1"]; !slices.Equal(got, []string{"create:shop-api-1", "network:shop_default", "pull:web:1"}) {
		t.Errorf("web's creation waits for %v", got)
	}
	if got := after["start:shop-web-1"]; !slices.Equal(got, []string{"create:shop-web-1", "start:shop-api-1"}) {
		t.Errorf("web's start waits for %v", got)
	}
	if got := after["create:shop-db-1"]; !slices.Equal(got, []string{"fill:shop_data", "network:shop_default", "pull:busybox", "volume:shop_data"}) {
		t.Errorf("db waits for %v", got)
	}
}

func TestSecondUpPlansNothing(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	plan, err := PlanUp(p, f.observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Fatalf("second plan not empty:\n%s", plan)
	}
	if !strings.Contains(plan.String(), "Nothing to do") {
		t.Fatalf("empty plan says %q", plan)
	}
}

func TestApplyFollowsDependencies(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	calls := f.calls()
	pos := func(call string) int {
		i := slices.Index(calls, call)
		if i < 0 {
			t.Fatalf("%q not called; calls: %v", call, calls)
		}
		return i
	}
	if !(pos("create-network shop_default") < pos("create shop-db-1") && pos("create-volume shop_data") < pos("create shop-db-1") &&
		pos("create shop-db-1") < pos("create shop-api-1") && pos("create shop-api-1") < pos("create shop-web-1") &&
		pos("create shop-web-1") < pos("refresh-hosts shop")) {
		t.Fatalf("wrong order: %v", calls)
	}
}

func TestEnvironmentChangeRecreatesOnlyThatService(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	p.Services[0].Environment = map[string]string{"NAME": "api", "FOO": "bar"}
	plan, err := PlanUp(p, f.observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `- remove container shop-api-1 (environment.FOO changed)
+ create container shop-api-1 (environment.FOO changed)
> start container shop-api-1 (environment.FOO changed)
~ update /etc/hosts of project shop (the project's containers changed)
Plan: 0 to pull, 0 to create, 1 to recreate, 0 to start, 0 to remove.
`
	if plan.String() != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", plan, want)
	}
	// The recreate is a chain in the DAG: each step after the one before.
	after := map[string][]string{}
	for _, a := range plan.Actions {
		after[a.ID] = a.After
	}
	for id, want := range map[string]string{"create:shop-api-1": "remove:shop-api-1", "start:shop-api-1": "create:shop-api-1"} {
		if !slices.Contains(after[id], want) {
			t.Errorf("%s must follow %s, follows %v", id, want, after[id])
		}
	}
	f.calls()
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	if calls := f.calls(); !before(calls, "remove shop-api-1", "create shop-api-1") ||
		!before(calls, "create shop-api-1", "start shop-api-1") {
		t.Errorf("the chain ran as %v", calls)
	}
}

// A stop-first recreate of a running container is one removal that
// stops it within the grace period (up -t), with no stop of its own
// before it: the removal takes its network namespace down while it stops.
func TestStopFirstRecreateStopsInItsRemoval(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	p.Services[0].Environment = map[string]string{"NAME": "api", "FOO": "bar"}
	zero := time.Duration(0)
	plan := must(t)(PlanUp(p, f.observe(p), Options{Timeout: &zero}))
	for _, a := range plan.Actions {
		if a.Kind == Stop {
			t.Fatalf("a stop before the removal:\n%s", plan)
		}
	}
	rm := plan.Actions[0]
	if rm.ID != "remove:shop-api-1" || rm.Timeout != 0 || rm.Reason != "environment.FOO changed" || len(rm.After) != 0 {
		t.Fatalf("removal %+v", rm)
	}
	grace := 7 * time.Second
	p.Services[0].StopGracePeriod = &grace
	plan = must(t)(PlanUp(p, f.observe(p), Options{}))
	if rm := plan.Actions[0]; rm.Kind != Remove || rm.Timeout != grace {
		t.Fatalf("the removal does not stop within stop_grace_period: %+v", rm)
	}
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	if c := f.containers["shop-api-1"]; c.State != lifecycle.Running {
		t.Fatalf("the successor is %s", c.State)
	}
}

func TestImageChangeRecreates(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	f.images["web:1"] = "sha256:w2"
	plan, _ := PlanUp(p, f.observe(p), Options{})
	if !slices.Equal(chain(plan, "shop-web-1"), []Kind{Remove, Create, Start}) || len(plan.Actions) != 4 ||
		plan.Actions[0].Reason != "image changed (w1 -> w2)" {
		t.Fatalf("plan:\n%s", plan)
	}
}

func TestDriftBecomesActions(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	c := f.containers["shop-db-1"]
	c.State, c.ExitCode = "exited", 137
	f.containers["shop-db-1"] = c
	c = f.containers["shop-web-1"]
	c.State = "missing"
	f.containers["shop-web-1"] = c
	delete(f.networks, "shop_default")
	obs := f.observe(p)
	obs.Networks["shop_default"] = Presence{Recorded: true}
	plan, err := PlanUp(p, obs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `+ create network shop_default (its bridge or its firewall rules are gone from the host)
- remove container shop-web-1 (the container is gone from the host)
+ create container shop-web-1 (the container is gone from the host)
> start container shop-db-1 (not running (exited, exit code 137))
> start container shop-web-1 (the container is gone from the host)
~ update /etc/hosts of project shop (the project's containers changed)
Plan: 0 to pull, 1 to create, 1 to recreate, 1 to start, 0 to remove.
`
	if plan.String() != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", plan, want)
	}
}

func TestForceRecreateAndServiceSelection(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	plan, err := PlanUp(p, f.observe(p), Options{ForceRecreate: true, Services: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	if targets := removed(plan); !slices.Equal(targets, []string{"shop-api-1"}) {
		t.Fatalf("as Compose, only the named api is force-recreated, not its dependency db: %v", targets)
	}
	plan, _ = PlanUp(p, f.observe(p), Options{ForceRecreate: true, AlwaysRecreateDeps: true, Services: []string{"api"}})
	if targets := removed(plan); !slices.Equal(targets, []string{"shop-api-1", "shop-db-1"}) {
		t.Fatalf("--always-recreate-deps recreates db too: %v", targets)
	}
	if !strings.Contains(plan.String(), "--always-recreate-deps") {
		t.Fatalf("the reason:\n%s", plan)
	}
	if _, err := PlanUp(p, f.observe(p), Options{Services: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown service: %v", err)
	}
}

func TestOrphansAndScale(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[2].Scale = 2
	up(t, f, p, Options{})
	if _, ok := f.containers["shop-web-2"]; !ok {
		t.Fatal("scale 2 made no second replica")
	}
	p.Services[2].Scale = 1
	p.Services = p.Services[1:] // drop api: an orphan now
	p.Services[1].DependsOn = map[string]spec.Dependency{}
	plan, _ := PlanUp(p, f.observe(p), Options{})
	if len(plan.Warnings) != 1 || !strings.Contains(plan.Warnings[0], "shop-api-1") {
		t.Fatalf("want an orphan warning, got %v", plan.Warnings)
	}
	if plan.Actions[0].Target != "shop-web-2" || plan.Actions[0].Reason != "scaled down to 1" {
		t.Fatalf("plan:\n%s", plan)
	}
	if quiet, _ := PlanUp(p, f.observe(p), Options{IgnoreOrphans: true}); len(quiet.Warnings) != 0 || len(quiet.Actions) != len(plan.Actions) {
		t.Fatalf("IgnoreOrphans: warnings %v, plan:\n%s", quiet.Warnings, quiet)
	}
	plan, _ = PlanUp(p, f.observe(p), Options{RemoveOrphans: true})
	var removed []string
	for _, a := range plan.Actions {
		if a.Kind == Remove {
			removed = append(removed, a.Target)
		}
	}
	if !slices.Equal(removed, []string{"shop-api-1", "shop-web-2"}) {
		t.Fatalf("removed %v", removed)
	}
}

func TestUnplannable(t *testing.T) {
	p := testProject()
	p.Networks["default"] = spec.Network{Name: "corp", External: true}
	p.Services[0].PullPolicy = "never"
	_, err := PlanUp(p, newFakeHost().observe(p), Options{})
	if !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), "network corp declared as external") ||
		!strings.Contains(err.Error(), `service "api": image "busybox" is not present and pull_policy is never`) {
		t.Fatalf("want both problems reported, got %v", err)
	}
}

func TestWaitForCompletion(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].DependsOn["db"] = spec.Dependency{Condition: "service_completed_successfully", Required: true}
	plan, _ := PlanUp(p, f.observe(p), Options{SkipPull: true})
	var wait *Action
	for i, a := range plan.Actions {
		if a.Kind == WaitExit {
			wait = &plan.Actions[i]
		}
	}
	if wait == nil || wait.Target != "shop-db-1" {
		t.Fatalf("no wait for db:\n%s", plan)
	}
	f.exitCodes["shop-db-1"] = 2
	up(t, f, &spec.Project{Name: p.Name, Networks: p.Networks, Volumes: p.Volumes, Services: p.Services[1:2]}, Options{})
	f.containers["shop-db-1"] = func() Container { c := f.containers["shop-db-1"]; c.State = "running"; return c }()
	_, err := Converge(context.Background(), p, f, f.drivers(), Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), `service "db" didn't complete successfully: exit 2`) {
		t.Fatalf("want the wait to fail, got %v", err)
	}
	for _, name := range []string{"shop-api-1", "shop-web-1"} { // Docker Compose's: created, not started
		if c, ok := f.containers[name]; !ok || c.State != lifecycle.Created {
			t.Fatalf("%s: %+v, want it created and not started although db failed", name, c)
		}
	}
}

func TestApplySkipsDependentsOfFailures(t *testing.T) {
	f, p := hostWithImages(), testProject()
	f.fail["create shop-db-1"] = errors.New("boom")
	plan, _ := PlanUp(p, f.observe(p), Options{})
	var events []Event
	err := Apply(context.Background(), plan, f.drivers(), 0, func(e Event) { events = append(events, e) })
	if err == nil || !strings.Contains(err.Error(), "create container shop-db-1: boom") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "dependency") {
		t.Fatalf("skipped actions are not failures of their own: %v", err)
	}
	skipped := map[string]bool{}
	for _, e := range events {
		if e.Status == Skipped {
			skipped[e.Action.Target] = true
		}
	}
	if !skipped["shop-api-1"] || !skipped["shop-web-1"] || skipped["shop"] {
		t.Fatalf("dependents not skipped, or the hosts refresh skipped: %v", skipped)
	}
}

func TestPlanDown(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	timeout := time.Duration(0)
	plan := must(t)(PlanDown(p, f.observe(p), DownOptions{RemoveVolumes: true, Timeout: &timeout}))
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	calls := f.calls()
	if !(slices.Index(calls, "remove shop-web-1") < slices.Index(calls, "remove shop-api-1") &&
		slices.Index(calls, "remove shop-api-1") < slices.Index(calls, "remove shop-db-1") &&
		slices.Index(calls, "remove shop-db-1") < slices.Index(calls, "remove-network shop_default") &&
		slices.Index(calls, "remove-volume shop_data") > 0) {
		t.Fatalf("down order: %v", calls)
	}
	if len(f.containers)+len(f.networks)+len(f.volumes) != 0 {
		t.Fatalf("left behind: %v %v %v", f.containers, f.networks, f.volumes)
	}
	keep := must(t)(PlanDown(p, Observed{Volumes: map[string]Presence{"shop_data": {Recorded: true, Exists: true}}}, DownOptions{}))
	if !keep.Empty() {
		t.Fatalf("down without -v must keep volumes:\n%s", keep)
	}
}

func TestApplyKeepsWhatIsStillUsed(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	f.fail["remove-network shop_default"] = fmt.Errorf("network shop_default: in use by other-app-1 (%w)", ErrKept)
	var kept []string
	plan := must(t)(PlanDown(p, f.observe(p), DownOptions{}))
	err := Apply(context.Background(), plan, f.drivers(), 0, func(e Event) {
		if e.Status == Kept {
			kept = append(kept, e.Action.Target)
		}
	})
	if err != nil || !slices.Equal(kept, []string{"shop_default"}) {
		t.Fatalf("a network still in use is kept, not a failure: %v, kept %v", err, kept)
	}
}

func TestSharedNetworkNamespaceFollowsItsOwner(t *testing.T) {
	f, p := hostWithImages(), testProject()
	vpn := spec.Service{Name: "vpn", Image: "busybox", PullPolicy: "missing", Scale: 1, NetworkMode: "service:db",
		DependsOn: map[string]spec.Dependency{"db": {Condition: "service_started", Required: true}}}
	p.Services = append(p.Services, vpn)
	up(t, f, p, Options{})
	p.Services[1].Environment = map[string]string{"NAME": "db", "NEW": "1"}
	plan, err := PlanUp(p, f.observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var vpnCreate *Action
	for i, a := range plan.Actions {
		if a.Target == "shop-vpn-1" && a.Kind == Create {
			vpnCreate = &plan.Actions[i]
		}
	}
	if !slices.Equal(chain(plan, "shop-vpn-1"), []Kind{Remove, Create, Start}) || vpnCreate.Reason != "it shares the network of db, which is recreated" ||
		!slices.Contains(vpnCreate.After, "start:shop-db-1") {
		t.Fatalf("plan:\n%s\nvpn: %+v", plan, vpnCreate)
	}
}

func TestSharedIpcAndPidNamespacesFollowTheirOwner(t *testing.T) {
	f, p := hostWithImages(), testProject()
	dep := map[string]spec.Dependency{"db": {Condition: "service_started", Required: true, Restart: true}}
	p.Services = append(p.Services,
		spec.Service{Name: "shm", Image: "busybox", PullPolicy: "missing", Scale: 1, Security: spec.Security{Ipc: "service:db", IpcContainer: "shop-db-1"}, DependsOn: dep},
		spec.Service{Name: "top", Image: "busybox", PullPolicy: "missing", Scale: 1, Security: spec.Security{Pid: "service:db", PidContainer: "shop-db-1"}, DependsOn: dep},
		spec.Service{Name: "peer", Image: "busybox", PullPolicy: "missing", Scale: 1, Security: spec.Security{Ipc: "service:shm", IpcContainer: "shop-shm-1"},
			DependsOn: map[string]spec.Dependency{"shm": {Condition: "service_started", Required: true, Restart: true}}})
	up(t, f, p, Options{})
	if plan := must(t)(PlanUp(p, f.observe(p), Options{})); !plan.Empty() {
		t.Fatalf("nothing changed, yet:\n%s", plan)
	}
	p.Services[1].Environment = map[string]string{"NAME": "db", "NEW": "1"}
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	for name, why := range map[string]string{
		"shop-shm-1":  "it shares the ipc namespace of db, which is recreated",
		"shop-top-1":  "it shares the pid namespace of db, which is recreated",
		"shop-peer-1": "it shares the ipc namespace of shm, which is recreated",
	} {
		var create *Action
		for i, a := range plan.Actions {
			if a.Target == name && a.Kind == Create {
				create = &plan.Actions[i]
			}
		}
		if !slices.Equal(chain(plan, name), []Kind{Remove, Create, Start}) || create.Reason != why {
			t.Fatalf("%s: want recreated because %q; plan:\n%s", name, why, plan)
		}
	}
	var shmCreate Action
	for _, a := range plan.Actions {
		if a.Target == "shop-shm-1" && a.Kind == Create {
			shmCreate = a
		}
	}
	if !slices.Contains(shmCreate.After, "start:shop-db-1") {
		t.Fatalf("the joiner is made before the owner runs: %+v", shmCreate)
	}
	// The web service shares nothing: it stays.
	if len(chain(plan, "shop-web-1")) != 0 {
		t.Fatalf("web shares nothing with db, yet:\n%s", plan)
	}
}

func TestHostsRefreshEvenAfterAFailure(t *testing.T) {
	f, p := hostWithImages(), testProject()
	f.fail["create shop-web-1"] = errors.New("boom")
	_, err := Converge(context.Background(), p, f, f.drivers(), Options{}, nil)
	if err == nil {
		t.Fatal("want the failure")
	}
	if !slices.Contains(f.calls(), "refresh-hosts shop") {
		t.Fatal("the containers that were made must still learn of each other")
	}
}

func TestRenamedVolumeRecreates(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	p.Volumes["data"] = spec.Volume{Name: "shop_data_v2", Driver: "local"}
	plan, err := PlanUp(p, f.observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "+ create volume shop_data_v2 (does not exist)\n+ fill volume shop_data_v2 (it is new: copy /data of image busybox into it)\n- remove container shop-db-1 (its networks or volumes are other objects now (a name: changed))\n"
	if !strings.HasPrefix(plan.String(), want) {
		t.Fatalf("plan:\n%s\nwant it to start with:\n%s", plan, want)
	}
}

func TestPlanDownSomeServices(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	plan := must(t)(PlanDown(p, f.observe(p), DownOptions{Services: []string{"web"}, RemoveVolumes: true}))
	want := "- remove container shop-web-1 (down)\n~ update /etc/hosts of project shop (the project's containers changed)\nPlan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to remove.\n"
	if plan.String() != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", plan, want)
	}
	all := must(t)(PlanDown(p, f.observe(p), DownOptions{Services: []string{"web", "api", "db"}}))
	if !strings.Contains(all.String(), "- remove network shop_default") {
		t.Fatalf("naming every service takes everything down:\n%s", all)
	}
}

func TestDependsOnHealthyWaits(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].DependsOn["db"] = spec.Dependency{Condition: "service_healthy", Required: true}
	up(t, f, p, Options{})
	calls := f.calls()
	if !(slices.Index(calls, "create shop-db-1") < slices.Index(calls, "wait-healthy shop-db-1") &&
		slices.Index(calls, "wait-healthy shop-db-1") < slices.Index(calls, "start shop-api-1")) {
		t.Fatalf("api must wait for db to be healthy: %v", calls)
	}
}

// network_mode service:/container: and volumes_from are resolved to
// container names once, in the plan, honouring container_name.
func TestReferencesResolvedInThePlan(t *testing.T) {
	p := testProject()
	p.Services[1].ContainerName = "the-db" // db
	p.Services[0].NetworkMode = "service:db"
	p.Services[0].Networks = nil
	p.Services[2].VolumesFrom = []spec.VolumesFrom{{Name: "db", Mode: "ro"}, {Container: true, Name: "box"}}
	plan := must(t)(PlanUp(p, newFakeHost().observe(p), Options{}))
	specs := map[string]*ContainerSpec{}
	for _, a := range plan.Actions {
		if a.Container != nil {
			specs[a.Service] = a.Container
		}
	}
	if specs["api"].Shares != "the-db" {
		t.Errorf("api shares %q, want the-db", specs["api"].Shares)
	}
	if want := []MountsFrom{{Container: "the-db", ReadOnly: true}, {Container: "box"}}; !slices.Equal(specs["web"].VolumesFrom, want) {
		t.Errorf("web mounts from %+v, want %+v", specs["web"].VolumesFrom, want)
	}
}

// Projects sharing a network with this one list its containers in their
// /etc/hosts: a change rewrites theirs too, as a step of the plan.
func TestPeersHostsAreInThePlan(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	obs := f.observe(p)
	obs.Peers = []string{"other"}
	p.Services[0].Environment = map[string]string{"NAME": "api", "X": "1"}
	plan := must(t)(PlanUp(p, obs, Options{}))
	if !strings.Contains(plan.String(), "~ update /etc/hosts of project other (it shares a network with project shop, whose containers changed)\n") {
		t.Fatalf("up:\n%s", plan)
	}
	down := must(t)(PlanDown(p, obs, DownOptions{}))
	if s := down.String(); !strings.Contains(s, "update /etc/hosts of project other") || strings.Contains(s, "update /etc/hosts of project shop") {
		t.Fatalf("down rewrites the peers' files, not its own, which go:\n%s", s)
	}
	if stop := must(t)(PlanStop(p, obs, StopOptions{})); strings.Contains(stop.String(), "/etc/hosts") {
		t.Fatalf("stopping changes no one's hosts:\n%s", stop)
	}
}

// Copy-up is a plan step where Docker would do it: a new or empty volume,
// not one with data, not with nocopy, not a tmpfs volume.
func TestFillVolumes(t *testing.T) {
	fills := func(p *spec.Project, obs Observed) []string {
		t.Helper()
		plan, err := PlanUp(p, obs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range plan.Actions {
			if a.Kind == FillVolume {
				out = append(out, a.Target+" "+a.Fill.Image+":"+a.Fill.Path+" ("+a.Reason+")")
				if !slices.Contains(a.After, "volume:"+a.Target) && !obs.Volumes[a.Target].Exists {
					t.Errorf("fill of %s before its creation: %v", a.Target, a.After)
				}
			}
		}
		return out
	}
	p := testProject()
	f := newFakeHost()
	obs := f.observe(p)
	obs.Volumes["shop_data"] = Presence{Recorded: true, Exists: true, Empty: true}
	if got := fills(p, obs); !slices.Equal(got, []string{"shop_data busybox:/data (it is empty: copy /data of image busybox into it)"}) {
		t.Errorf("empty volume: %q", got)
	}
	obs.Volumes["shop_data"] = Presence{Recorded: true, Exists: true}
	if got := fills(p, obs); got != nil {
		t.Errorf("a volume with data is never filled: %q", got)
	}
	db, _ := p.Service("db")
	db.Mounts = []spec.Mount{{Type: spec.MountVolume, Source: "data", Target: "/data", NoCopy: true}}
	if got := fills(p, f.observe(p)); got != nil {
		t.Errorf("nocopy: %q", got)
	}
	db.Mounts[0].NoCopy = false
	p.Volumes["data"] = spec.Volume{Name: "shop_data", Driver: "local", DriverOpts: map[string]string{"type": "tmpfs"}}
	if got := fills(p, f.observe(p)); got != nil {
		t.Errorf("tmpfs volume: %q", got)
	}
}

func TestConvergedStackWithHealthyDependencyPlansNothing(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].DependsOn["db"] = spec.Dependency{Condition: "service_healthy", Required: true}
	up(t, f, p, Options{})
	plan, err := PlanUp(p, f.observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Fatalf("a second up waits for what nothing needs:\n%s", plan)
	}
}

// removed are the containers plan removes.
func removed(plan Plan) []string {
	var out []string
	for _, a := range plan.Actions {
		if a.Kind == Remove {
			out = append(out, a.Target)
		}
	}
	return out
}

// countingStarts is a Containers that records how many Starts overlap.
type countingStarts struct {
	Containers
	mu        sync.Mutex
	now, most int
}

func (c *countingStarts) Start(ctx context.Context, name string) error {
	c.mu.Lock()
	c.now++
	c.most = max(c.most, c.now)
	c.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	c.mu.Lock()
	c.now--
	c.mu.Unlock()
	return c.Containers.Start(ctx, name)
}

func TestApplyHonoursTheDriversParallelLimit(t *testing.T) {
	for _, limit := range []int{1, 3} {
		f, p := hostWithImages(), testProject()
		p.Services[0].DependsOn, p.Services[2].DependsOn = nil, nil // three independent services
		p.Services[2].Scale = 3
		d := f.drivers()
		counting := &countingStarts{Containers: d.Containers}
		d.Containers, d.Parallel = counting, limit
		if _, err := Converge(context.Background(), p, f, d, Options{}, nil); err != nil {
			t.Fatal(err)
		}
		if counting.most != limit {
			t.Errorf("parallel %d: at most %d starts at once", limit, counting.most)
		}
	}
}

// overlap counts calls in progress at once: each call waits (at most a
// second) until want calls are in, so that the count does not hang on
// how the calls were scheduled.
type overlap struct {
	mu        sync.Mutex
	now, most int
	want      int
	all       chan struct{}
	once      sync.Once
}

func newOverlap(want int) *overlap { return &overlap{want: want, all: make(chan struct{})} }

func (o *overlap) call() {
	o.mu.Lock()
	o.now++
	o.most = max(o.most, o.now)
	if o.now == o.want {
		o.once.Do(func() { close(o.all) })
	}
	o.mu.Unlock()
	select {
	case <-o.all:
	case <-time.After(time.Second):
	}
	o.mu.Lock()
	o.now--
	o.mu.Unlock()
}

// overlappingWaits is a Containers whose WaitReady and Remove calls
// overlap as an overlap each counts.
type overlappingWaits struct {
	Containers
	ready, removes *overlap
}

func (c *overlappingWaits) WaitReady(ctx context.Context, name string) (bool, int, error) {
	c.ready.call()
	return c.Containers.WaitReady(ctx, name)
}

func (c *overlappingWaits) Remove(ctx context.Context, name string, timeout time.Duration) error {
	c.removes.call()
	return c.Containers.Remove(ctx, name, timeout)
}

// TestApplyDefaultLimitSparesWaits: with no limit given, at most 8
// containers start at once, but any number wait to be ready (a wait
// holds back no start) or are removed (a removal mostly waits on the shim
// and the kernel); a limit given bounds them all.
func TestApplyDefaultLimitSparesWaits(t *testing.T) {
	for _, tc := range []struct{ limit, starts, waits int }{{0, 8, 12}, {3, 3, 3}} {
		f, p := hostWithImages(), testProject()
		p.Services = p.Services[2:] // one service without dependencies
		p.Services[0].DependsOn, p.Services[0].Scale = nil, 12
		d := f.drivers()
		starts := &countingStarts{Containers: d.Containers}
		waits := &overlappingWaits{Containers: starts, ready: newOverlap(tc.waits), removes: newOverlap(tc.waits)}
		d.Containers, d.Parallel = waits, tc.limit
		if _, err := Converge(context.Background(), p, f, d, Options{Wait: true}, nil); err != nil {
			t.Fatal(err)
		}
		plan := must(t)(PlanDown(p, f.observe(p), DownOptions{}))
		if err := Apply(context.Background(), plan, d, 0, nil); err != nil {
			t.Fatal(err)
		}
		if starts.most != tc.starts || waits.ready.most != tc.waits || waits.removes.most != tc.waits {
			t.Errorf("limit %d: %d starts, %d waits and %d removals at once, want %d, %d and %d", tc.limit,
				starts.most, waits.ready.most, waits.removes.most, tc.starts, tc.waits, tc.waits)
		}
	}
}

// goroutineStarts is a Containers that records the goroutine each Start
// runs on.
type goroutineStarts struct {
	Containers
	mu  sync.Mutex
	ids map[string]bool
}

func (c *goroutineStarts) Start(ctx context.Context, name string) error {
	buf := make([]byte, 64)
	id := strings.Fields(string(buf[:goruntime.Stack(buf, false)]))[1] // "goroutine N [running]:"
	c.mu.Lock()
	c.ids[id] = true
	c.mu.Unlock()
	return c.Containers.Start(ctx, name)
}

// TestApplyRunsActionsOnItsRunners: the actions run on as many
// goroutines as may run at once (whose stacks have grown for them), not
// on a goroutine each.
func TestApplyRunsActionsOnItsRunners(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Services[0].DependsOn, p.Services[2].DependsOn = nil, nil
	p.Services[2].Scale = 6
	d := f.drivers()
	starts := &goroutineStarts{Containers: d.Containers, ids: map[string]bool{}}
	d.Containers, d.Parallel = starts, 2
	if _, err := Converge(context.Background(), p, f, d, Options{}, nil); err != nil {
		t.Fatal(err)
	}
	if len(starts.ids) == 0 || len(starts.ids) > 2 {
		t.Errorf("8 starts with a limit of 2 ran on %d goroutines", len(starts.ids))
	}
}

// numGoroutineStarts is a Containers that records how many goroutines
// there are during its Starts.
type numGoroutineStarts struct {
	Containers
	most int
}

func (c *numGoroutineStarts) Start(ctx context.Context, name string) error {
	c.most = max(c.most, goruntime.NumGoroutine())
	return c.Containers.Start(ctx, name)
}

// TestApplyStartsNoMoreRunnersThanActions: a high parallel limit does
// not start that many goroutines for a small plan.
func TestApplyStartsNoMoreRunnersThanActions(t *testing.T) {
	f, p := hostWithImages(), testProject()
	d := f.drivers()
	starts := &numGoroutineStarts{Containers: d.Containers}
	d.Containers, d.Parallel = starts, 100000
	if _, err := Converge(context.Background(), p, f, d, Options{}, nil); err != nil {
		t.Fatal(err)
	}
	if starts.most == 0 || starts.most > 1000 {
		t.Errorf("%d goroutines during a start of a small plan with a limit of 100000", starts.most)
	}
}

func TestDeadSupervisorRestarts(t *testing.T) {
	f, p := hostWithImages(), testProject()
	up(t, f, p, Options{})
	c := f.containers["shop-db-1"]
	c.Unsupervised = true
	f.containers["shop-db-1"] = c
	for _, o := range []Options{{}, {NoRecreate: true}} {
		plan, err := PlanUp(p, f.observe(p), o)
		if err != nil {
			t.Fatal(err)
		}
		want := `■ stop container shop-db-1 (its supervisor died)
> start container shop-db-1 (its supervisor died)
Plan: 0 to pull, 0 to create, 0 to recreate, 1 to start, 1 to stop, 0 to remove.
`
		if plan.String() != want {
			t.Fatalf("%+v plan:\n%s\nwant:\n%s", o, plan, want)
		}
		if a := plan.Actions[1]; !slices.Contains(a.After, "stop:shop-db-1") {
			t.Fatalf("the start must follow the stop: %v", a.After)
		}
	}
	// A changed service is recreated all the same, the dead supervisor with it.
	for i := range p.Services {
		if p.Services[i].Name == "db" {
			p.Services[i].Environment = map[string]string{"X": "1"}
		}
	}
	plan, _ := PlanUp(p, f.observe(p), Options{})
	if !slices.Equal(chain(plan, "shop-db-1"), []Kind{Remove, Create, Start}) {
		t.Fatalf("plan:\n%s", plan)
	}
}
