package reconcile

import (
	"strings"
	"testing"

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
// configuration recreates exactly the containers of the service that
// declares it, naming the bind, and nothing else.
func TestWatchedBindChangeRecreatesItsService(t *testing.T) {
	f, p := hostWithImages(), testProject()
	p.Watched = map[string][]spec.WatchedBind{"api": {{Key: "bind ./conf", Source: "/x/conf", Digest: "b1"}}}
	up(t, f, p, Options{})
	if got := f.containers["shop-api-1"].Contents["bind ./conf"]; got != "b1" {
		t.Fatalf("recorded bind digest = %q", got)
	}

	p.Watched["api"][0].Digest = "b2"
	plan, err := PlanUp(p, f.observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.String(), "+ create container shop-api-1 (bind ./conf: content changed)") ||
		!strings.Contains(plan.String(), "1 to recreate") || strings.Contains(plan.String(), "shop-db-1") {
		t.Fatalf("plan:\n%s", plan)
	}
	up(t, f, p, Options{})
	if plan, _ = PlanUp(p, f.observe(p), Options{}); !plan.Empty() {
		t.Fatalf("the new digest was not recorded:\n%s", plan)
	}
}
