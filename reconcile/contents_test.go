package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// A change of a config's or secret's content alone recreates exactly the
// services that use it, naming it; a container that recorded no contents
// (made by an older berth) is left alone.
func TestContentChangeRecreatesItsUsers(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Configs = map[string]spec.FileSource{"app_conf": {Name: "shop_app_conf", File: "/x/app.conf", Digest: "d1"}}
	p.Secrets = map[string]spec.FileSource{"db_pw": {Name: "shop_db_pw", File: "/x/pw", Digest: "s1"}}
	p.Services[0].Configs = []spec.FileRef{{Source: "app_conf", Target: "/app.conf"}}       // api
	p.Services[1].Secrets = []spec.FileRef{{Source: "db_pw", Target: "/run/secrets/db_pw"}} // db
	up(t, f, p, Options{})

	p.Configs["app_conf"] = spec.FileSource{Name: "shop_app_conf", File: "/x/app.conf", Digest: "d2"}
	plan, err := PlanUp(p, f.observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.String(), "+ create container shop-api-1 (config app_conf: content changed)") ||
		!strings.Contains(plan.String(), "1 to recreate") {
		t.Fatalf("plan:\n%s", plan)
	}
	up(t, f, p, Options{})

	p.Secrets["db_pw"] = spec.FileSource{Name: "shop_db_pw", File: "/x/pw", Digest: "s2"}
	plan, err = PlanUp(p, f.observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.String(), "+ create container shop-db-1 (secret db_pw: content changed)") ||
		!strings.Contains(plan.String(), "1 to recreate") || strings.Contains(plan.String(), "s2") {
		t.Fatalf("plan:\n%s", plan)
	}

	c := f.containers["shop-db-1"]
	c.Contents = nil
	f.containers["shop-db-1"] = c
	if plan, _ = PlanUp(p, f.observe(p), Options{}); !plan.Empty() {
		t.Fatalf("a container without recorded contents was recreated:\n%s", plan)
	}
}

func TestContentsLabelRoundTrips(t *testing.T) {
	in := map[string]string{"config a": "1", "secret b": "2"}
	if got := EncodeContents(in); got != "config a=1;secret b=2" {
		t.Errorf("EncodeContents = %q", got)
	}
	if got := ParseContents(EncodeContents(in)); len(got) != 2 || got["secret b"] != "2" {
		t.Errorf("round trip = %v", got)
	}
	if ParseContents("") != nil {
		t.Error("no label must parse to nil")
	}
}

// A change of the content under a read-only bind declared as
// configuration restarts exactly the containers of the service that
// declares it, naming the bind, and records the new digest: the next plan
// is empty. With a config changed too, the container is made anew.
func TestWatchedBindChangeRestartsItsService(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Watched = map[string][]spec.WatchedBind{"api": {{Key: "bind ./conf", Source: "/x/conf", Digest: "b1"}}}
	up(t, f, p, Options{})
	if got := f.containers["shop-api-1"].Contents["bind ./conf"]; got != "b1" {
		t.Fatalf("recorded bind digest = %q", got)
	}

	p.Watched["api"][0].Digest = "b2"
	plan := must(t)(PlanUp(p, f.observe(p), Options{}))
	want := "■ stop container shop-api-1 (bind ./conf: content changed)\n" +
		"> start container shop-api-1 (bind ./conf: content changed)\n" +
		"~ record contents of shop-api-1 (bind ./conf: content changed)\n"
	if !strings.Contains(plan.String(), want) || strings.Contains(plan.String(), "shop-db-1") ||
		!strings.Contains(plan.String(), "0 to recreate, 1 to start, 1 to stop") {
		t.Fatalf("plan:\n%s", plan)
	}
	f.calls()
	up(t, f, p, Options{})
	if got := f.calls(); !slices.Equal(got, []string{"stop shop-api-1", "start shop-api-1", "record-contents shop-api-1"}) {
		t.Fatalf("calls = %q", got)
	}
	if plan = must(t)(PlanUp(p, f.observe(p), Options{})); !plan.Empty() {
		t.Fatalf("the new digest was not recorded:\n%s", plan)
	}

	// Left stopped by --no-start, it mounts the new content when it
	// starts: the digest is recorded after the stop.
	p.Watched["api"][0].Digest = "b3"
	plan = must(t)(PlanUp(p, f.observe(p), Options{NoStart: true}))
	if got := chain(plan, "shop-api-1"); !slices.Equal(got, []Kind{Stop, RecordContents}) {
		t.Fatalf("--no-start chain = %v:\n%s", got, plan)
	}

	// A config changed with it: a new container.
	p.Configs = map[string]spec.FileSource{"app_conf": {Name: "shop_app_conf", File: "/x/app.conf", Digest: "d1"}}
	p.Services[0].Configs = []spec.FileRef{{Source: "app_conf", Target: "/app.conf"}}
	up(t, f, p, Options{})
	p.Configs["app_conf"] = spec.FileSource{Name: "shop_app_conf", File: "/x/app.conf", Digest: "d2"}
	p.Watched["api"][0].Digest = "b4"
	plan = must(t)(PlanUp(p, f.observe(p), Options{}))
	if !strings.Contains(plan.String(), "+ create container shop-api-1 (bind ./conf, config app_conf: content changed)") ||
		slices.Contains(chain(plan, "shop-api-1"), RecordContents) {
		t.Fatalf("plan with a config changed too:\n%s", plan)
	}
}

// A stopped container whose watched bind changed is not started for it
// (it mounts the new content at its next start): its digest is recorded.
func TestWatchedBindChangeOfAStoppedContainer(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Watched = map[string][]spec.WatchedBind{"api": {{Key: "bind ./conf", Source: "/x/conf", Digest: "b1"}}}
	up(t, f, p, Options{})
	c := f.containers["shop-api-1"]
	c.State, c.ExitCode, c.Stopped = lifecycle.Exited, 0, true
	f.containers["shop-api-1"] = c
	p.Watched["api"][0].Digest = "b2"
	plan := must(t)(PlanUp(p, f.observe(p), Options{KeepStopped: true}))
	if got := chain(plan, "shop-api-1"); !slices.Equal(got, []Kind{RecordContents}) || len(plan.Held) != 1 {
		t.Fatalf("chain = %v:\n%s", got, plan)
	}
	up(t, f, p, Options{KeepStopped: true})
	if plan = must(t)(PlanUp(p, f.observe(p), Options{KeepStopped: true})); !plan.Empty() {
		t.Fatalf("second plan:\n%s", plan)
	}
}
