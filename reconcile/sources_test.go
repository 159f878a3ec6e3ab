package reconcile

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/spec"
)

func TestSourcesKeepNoSecretContent(t *testing.T) {
	cs := ContainerSpec{
		Configs: map[string]spec.FileSource{
			"app_conf": {File: "/srv/app.conf", Digest: "d1"},
			"inline":   {Content: "inline\n", Digest: "d2"},
			"from_env": {Environment: "CONF", Content: "resolved value", Digest: "d3"},
		},
		Secrets: map[string]spec.FileSource{
			"token":  {File: "/srv/token", Digest: "d4"},
			"inline": {Content: "hunter2", Digest: "d5"},
			"env":    {Environment: "TOKEN", Content: "hunter3", Digest: "d6"},
		},
	}
	label := EncodeSources(Sources(cs))
	want := `{"config app_conf":{"file":"/srv/app.conf"},"config from_env":{"environment":"CONF"},"config inline":{"content":"inline\n"},` +
		`"secret env":{"environment":"TOKEN"},"secret inline":{},"secret token":{"file":"/srv/token"}}`
	if label != want {
		t.Fatalf("label:\n%s\nwant:\n%s", label, want)
	}
	got := ParseSources(label)
	if len(got) != 6 || got["config inline"].Content == nil || *got["config inline"].Content != "inline\n" || got["secret token"].File != "/srv/token" {
		t.Fatalf("parsed: %+v", got)
	}
	if EncodeSources(Sources(ContainerSpec{})) != "" || ParseSources("") != nil || ParseSources("not json") != nil {
		t.Fatal("no sources: a label")
	}
}

func TestUnrestorable(t *testing.T) {
	c := Container{Name: "shop-api-1", Spec: spec.Service{Configs: []spec.FileRef{{Source: "app_conf"}}, Secrets: []spec.FileRef{{Source: "token"}}},
		Contents: map[string]string{"config app_conf": "c1", "secret token": "s1"}}
	for _, tc := range []struct {
		config, secret spec.FileSource
		want           string
	}{
		{spec.FileSource{File: "/a", Digest: "c1"}, spec.FileSource{File: "/t", Digest: "s1"}, ""},
		{spec.FileSource{Content: "", Digest: "c1"}, spec.FileSource{File: "/t", Digest: "s1"}, ""},
		{spec.FileSource{File: "/a", Digest: "c2"}, spec.FileSource{File: "/t", Digest: "s1"}, "config app_conf changed since the container was made"},
		{spec.FileSource{File: "/a", Digest: "c1"}, spec.FileSource{File: "/t", Digest: "s2"}, "secret token changed since the container was made"},
		{spec.FileSource{File: "/a"}, spec.FileSource{File: "/t", Digest: "s1"}, "config app_conf: its file /a is gone or unreadable"},
		{spec.FileSource{Environment: "CONF"}, spec.FileSource{File: "/t", Digest: "s1"}, "config app_conf comes from environment variable CONF, whose value berth does not keep"},
		{spec.FileSource{File: "/a", Digest: "c1"}, spec.FileSource{}, "secret token has no recorded file source, and berth keeps no secret's content"},
		{spec.FileSource{}, spec.FileSource{File: "/t", Digest: "s1"}, "config app_conf has no recorded source"},
	} {
		cs := &ContainerSpec{Configs: map[string]spec.FileSource{"app_conf": tc.config}, Secrets: map[string]spec.FileSource{"token": tc.secret}}
		if got := unrestorable(c, cs); got != tc.want {
			t.Errorf("%+v %+v: %q, want %q", tc.config, tc.secret, got, tc.want)
		}
	}
	old := c
	old.Contents = nil
	cs := &ContainerSpec{Configs: map[string]spec.FileSource{"app_conf": {File: "/a", Digest: "c1"}}}
	if got := unrestorable(old, cs); !strings.Contains(got, "no recorded content digest") {
		t.Errorf("a container that recorded no digests: %q", got)
	}
}

// A container whose secret file changed while the host was down stays
// down at boot, with why; the others come back.
func TestPlanBootLeavesDownChangedFiles(t *testing.T) {
	f, p := hostWithImages(), testProject()
	for j := range p.Services {
		p.Services[j].Restart = "always"
	}
	up(t, f, p, Options{})
	reboot(f)
	obs := f.observe(p)
	obs.Networks["shop_default"] = Presence{Recorded: true}
	p.Secrets = map[string]spec.FileSource{"token": {File: "/srv/token", Digest: "new"}}
	for i, c := range obs.Containers {
		if c.Name == "shop-web-1" {
			c.Spec.Secrets = []spec.FileRef{{Source: "token"}}
			c.Contents = map[string]string{"secret token": "old"}
			obs.Containers[i] = c
		}
	}
	plan, err := PlanBoot(p, obs)
	if err != nil {
		t.Fatal(err)
	}
	want := "container shop-web-1 stays down: secret token changed since the container was made: run `berth up` in its project"
	if len(plan.Warnings) != 1 || plan.Warnings[0] != want {
		t.Errorf("warnings: %q", plan.Warnings)
	}
	if starts := started(plan); len(starts) != 2 {
		t.Fatalf("plan:\n%s", plan)
	}
	for _, a := range plan.Actions {
		if a.Target == "shop-web-1" {
			t.Errorf("plan touches shop-web-1:\n%s", plan)
		}
	}
}
