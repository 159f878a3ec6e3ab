package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/spec"
)

// Build makes the image of b from the fake's current inputs: the same
// inputs give the same ID, as the builder's cache does.
func (f *fakeHost) Build(_ context.Context, b BuildSpec) error {
	if err := f.record("build " + b.Image); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.inputs[b.Image]
	h := sha256.Sum256([]byte(in.Dockerfile + in.Context + in.Args))
	id := "sha256:" + hex.EncodeToString(h[:])
	f.images[b.Image] = id
	if f.built == nil {
		f.built = map[string]BuildInputs{}
	}
	f.built[id] = in
	return nil
}

// observeBuilds reports, for each service of p that builds, what its build
// reads now and what its local image was built from.
func (f *fakeHost) observeBuilds(p *spec.Project, obs *Observed) {
	for _, s := range p.Services {
		if s.Build == nil {
			continue
		}
		if obs.Builds == nil {
			obs.Builds = map[string]BuildState{}
		}
		st := BuildState{Inputs: f.inputs[s.Image]}
		if in, ok := f.built[f.images[s.Image]]; ok {
			st.Built = &in
		}
		obs.Builds[s.Image] = st
	}
}

// builtProject is the test project whose web service builds its image.
func builtProject() *spec.Project {
	p := testProject()
	p.Services[2].Image = "shop-web"
	p.Services[2].Build = &spec.Build{Context: "/src/web", Dockerfile: "/src/web/Dockerfile"}
	return p
}

func hostWithBuild() *fakeHost {
	f := hostWithImages()
	f.inputs = map[string]BuildInputs{"shop-web": {Dockerfile: "d1", Context: "c1", Args: "a1"}}
	return f
}

func TestPlanBuildsAbsentImage(t *testing.T) {
	f, p := hostWithBuild(), builtProject()
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	text := plan.String()
	if !strings.HasPrefix(text, "↓ pull image busybox (not present)\n+ build image shop-web (no image yet)\n") {
		t.Fatalf("plan:\n%s", text)
	}
	if strings.Contains(text, "pull image shop-web") {
		t.Errorf("a built image is pulled:\n%s", text)
	}
	if !strings.HasSuffix(text, "Plan: 1 to build, 1 to pull, 5 to create, 0 to recreate, 0 to start, 0 to remove.\n") {
		t.Errorf("summary:\n%s", text)
	}
	for _, a := range plan.Actions {
		if a.ID == "create:shop-web-1" && !slices.Contains(a.After, "build:shop-web") {
			t.Errorf("web's creation does not wait for its build: %v", a.After)
		}
		if a.Kind == Build && (a.Build == nil || a.Build.Image != "shop-web" || a.Build.Build.Context != "/src/web") {
			t.Errorf("build action carries %+v", a.Build)
		}
	}

	applied := up(t, f, p, Options{})
	if calls := f.calls(); !slices.Contains(calls, "build shop-web") || slices.Contains(calls, "pull shop-web") {
		t.Errorf("calls: %v", calls)
	}
	if !strings.Contains(applied.String(), "+ build image shop-web (no image yet)") {
		t.Errorf("up applied:\n%s", applied)
	}
	if second := must(t)(PlanUp(p, f.observe(p), Options{})); !second.Empty() {
		t.Fatalf("second plan not empty:\n%s", second)
	}
}

// A changed Dockerfile is rebuilt by up --build, and only the service
// built from it is recreated, with the reason; plain up keeps the image
// (as Docker Compose does) and says so.
func TestUpBuildRebuildsWhatChanged(t *testing.T) {
	f, p := hostWithBuild(), builtProject()
	up(t, f, p, Options{})
	f.calls()
	f.inputs["shop-web"] = BuildInputs{Dockerfile: "d2", Context: "c1", Args: "a1"}

	plain := must(t)(PlanUp(p, f.observe(p), Options{}))
	want := "! image shop-web was built from other inputs (Dockerfile changed): `up --build` rebuilds it\nNothing to do: the project is up to date.\n"
	if plain.String() != want {
		t.Errorf("plain up plans:\n%s\nwant:\n%s", plain, want)
	}

	printed := must(t)(PlanUp(p, f.observe(p), Options{Build: true}))
	for _, line := range []string{"+ build image shop-web (Dockerfile changed)\n", "- remove container shop-web-1 (image rebuilt)\n", "+ create container shop-web-1 (image rebuilt)\n"} {
		if !strings.Contains(printed.String(), line) {
			t.Errorf("plan --build lacks %q:\n%s", line, printed)
		}
	}
	for _, a := range printed.Actions {
		if a.ID == "stop:shop-web-1" && !slices.Contains(a.After, "build:shop-web") {
			t.Errorf("the old container stops before its image is built: %v", a.After)
		}
	}
	applied := up(t, f, p, Options{Build: true})
	if printed.String() != applied.String() {
		t.Errorf("plan printed:\n%s\nup applied:\n%s", printed, applied)
	}
	for _, c := range f.calls() {
		if strings.HasPrefix(c, "create ") && c != "create shop-web-1" {
			t.Errorf("up --build also did %q", c)
		}
	}
}

// up --build of an unchanged build builds (the cache makes it quick) and
// recreates nothing when the image is the same.
func TestUpBuildUnchangedRecreatesNothing(t *testing.T) {
	f, p := hostWithBuild(), builtProject()
	up(t, f, p, Options{})
	f.calls()
	applied := up(t, f, p, Options{Build: true})
	want := "+ build image shop-web (--build)\nPlan: 1 to build, 0 to pull, 0 to create, 0 to recreate, 0 to start, 0 to remove.\n"
	if applied.String() != want {
		t.Errorf("up --build applied:\n%s\nwant:\n%s", applied, want)
	}
}

// After a build that gives another image than the containers', they are
// recreated "image rebuilt", not "image changed".
func TestRebuiltImageRecreates(t *testing.T) {
	f, p := hostWithBuild(), builtProject()
	up(t, f, p, Options{})
	f.images["shop-web"] = "sha256:other" // what a --build of a changed base made
	plan := must(t)(PlanUp(p, f.observe(p), Options{SkipBuild: true, Rebuilt: []string{"shop-web"}}))
	if !strings.Contains(plan.String(), "+ create container shop-web-1 (image rebuilt)") {
		t.Errorf("plan:\n%s", plan)
	}
}

// Up carries out the builds, and the networks they join, before it plans
// the rest again.
func TestPrepareKeepsBuildNetworks(t *testing.T) {
	f, p := hostWithBuild(), builtProject()
	pre := must(t)(PlanUp(p, f.observe(p), Options{})).Prepare()
	want := "↓ pull image busybox (not present)\n+ build image shop-web (no image yet)\n+ create network shop_default (does not exist)\nPlan: 1 to build, 1 to pull, 1 to create, 0 to recreate, 0 to start, 0 to remove.\n"
	if pre.String() != want {
		t.Errorf("prepared:\n%s\nwant:\n%s", pre, want)
	}
	p.Services[2].Build.Network = "none"
	pre = must(t)(PlanUp(p, f.observe(p), Options{})).Prepare()
	if len(pre.Actions) != 2 {
		t.Errorf("a build with network none needs no network:\n%s", pre)
	}
}

func TestNoBuild(t *testing.T) {
	f, p := hostWithBuild(), builtProject()
	_, err := PlanUp(p, f.observe(p), Options{NoBuild: true})
	if !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), `service "web": image shop-web is not present and --no-build was given`) {
		t.Errorf("err = %v", err)
	}
	up(t, f, p, Options{})
	f.inputs["shop-web"] = BuildInputs{Dockerfile: "d2"}
	if plan := must(t)(PlanUp(p, f.observe(p), Options{NoBuild: true, Build: true})); !plan.Empty() {
		t.Errorf("--no-build plans:\n%s", plan)
	}
}

func TestPullPolicyBuildAlwaysBuilds(t *testing.T) {
	f, p := hostWithBuild(), builtProject()
	p.Services[2].PullPolicy = "build"
	up(t, f, p, Options{})
	if plan := must(t)(PlanUp(p, f.observe(p), Options{})); !strings.Contains(plan.String(), "+ build image shop-web (pull_policy is build)") {
		t.Errorf("plan:\n%s", plan)
	}
}

// A failed build leaves the service's containers alone.
func TestFailedBuildCreatesNothing(t *testing.T) {
	f, p := hostWithBuild(), builtProject()
	f.fail["build shop-web"] = errors.New("Dockerfile:3: unknown instruction")
	_, err := Converge(context.Background(), p, f, f.drivers(), Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "build image shop-web: Dockerfile:3: unknown instruction") {
		t.Fatalf("err = %v", err)
	}
	for _, c := range f.calls() {
		if strings.HasPrefix(c, "create ") {
			t.Errorf("after a failed build: %s", c)
		}
	}
}

func TestPlanBuildCommand(t *testing.T) {
	f, p := hostWithBuild(), builtProject()
	p.Services[0].Image, p.Services[0].Build = "shop-api", &spec.Build{Context: "/src/api"} // api builds too
	plan := must(t)(PlanBuild(p, f.observe(p), nil, false, BuildOptions{NoCache: true}))
	want := "+ build image shop-api (no image yet)\n+ build image shop-web (no image yet)\n+ create network shop_default (does not exist)\nPlan: 2 to build, 0 to pull, 1 to create, 0 to recreate, 0 to start, 0 to remove.\n"
	if plan.String() != want {
		t.Errorf("plan:\n%s\nwant:\n%s", plan, want)
	}
	for _, a := range plan.Actions {
		if a.Kind != Build {
			continue
		}
		if !slices.Contains(a.After, "network:shop_default") || a.Build.NetworkKey != "default" || a.Build.Network.Name != "shop_default" {
			t.Errorf("%s: RUN network %q %+v after %v, want the service's default network, made first", a.ID, a.Build.NetworkKey, a.Build.Network, a.After)
		}
		if !a.Build.Build.NoCache {
			t.Errorf("%s: --no-cache not applied", a.ID)
		}
	}
	if err := Apply(context.Background(), plan, f.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	// Named: only web, whose image is there now; web depends on api.
	plan = must(t)(PlanBuild(p, f.observe(p), []string{"web"}, false, BuildOptions{}))
	if plan.String() != "+ build image shop-web (requested)\nPlan: 1 to build, 0 to pull, 0 to create, 0 to recreate, 0 to start, 0 to remove.\n" {
		t.Errorf("plan:\n%s", plan)
	}
	plan = must(t)(PlanBuild(p, f.observe(p), []string{"web"}, true, BuildOptions{}))
	if len(plan.Targets(Build)) != 2 {
		t.Errorf("--with-dependencies plan:\n%s", plan)
	}
	for _, a := range plan.Actions {
		if a.ID == "build:shop-web" && !slices.Contains(a.After, "build:shop-api") {
			t.Errorf("web's build does not wait for that of api, which it depends on: %v", a.After)
		}
	}
	if _, err := PlanBuild(p, f.observe(p), []string{"nope"}, false, BuildOptions{}); err == nil {
		t.Error("no error for an unknown service")
	}
}

// down --rmi local removes the images built without an image: name.
func TestDownImagesLocal(t *testing.T) {
	p := builtProject()
	got, err := DownImages(p, "local")
	if err != nil || !slices.Equal(got, []string{"shop-web"}) {
		t.Errorf("DownImages local = %v, %v", got, err)
	}
	p.Services[2].Image = "registry.example/web:1" // built, but named
	if got, _ := DownImages(p, "local"); len(got) != 0 {
		t.Errorf("DownImages local = %v, want none", got)
	}
}

// A build whose additional context names another service waits for that
// service's build, and gets its image as a docker-image:// context.
func TestBuildContextServiceBuildsFirst(t *testing.T) {
	p := builtProject()
	p.Services[0].Image, p.Services[0].Build = "shop-api", &spec.Build{Context: "/src/api"} // api: no depends_on on web
	p.Services[2].Build.AdditionalContexts = map[string]string{"base": "service:api", "assets": "/src/assets"}
	plan, err := PlanUp(p, hostWithBuild().observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var web Action
	for _, a := range plan.Actions {
		if a.ID == buildID("shop-web") {
			web = a
		}
	}
	if !slices.Contains(web.After, buildID("shop-api")) {
		t.Fatalf("web's build does not wait for api's: %+v\n%s", web, plan)
	}
	want := map[string]string{"base": "docker-image://shop-api", "assets": "/src/assets"}
	if got := web.Build.Build.AdditionalContexts; len(got) != 2 || got["base"] != want["base"] || got["assets"] != want["assets"] {
		t.Errorf("contexts given to the builder: %v, want %v", got, want)
	}
	if p.Services[2].Build.AdditionalContexts["base"] != "service:api" {
		t.Error("the project's build section was changed")
	}
}
