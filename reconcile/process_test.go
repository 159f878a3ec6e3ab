package reconcile

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/spec"
)

func TestMergeProcessArgs(t *testing.T) {
	img := ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"serve"}}
	for _, c := range []struct {
		name       string
		entry, cmd []string
		want       []string
	}{
		{"the image's entrypoint and cmd", nil, nil, []string{"/entry", "serve"}},
		{"command replaces cmd", nil, []string{"debug"}, []string{"/entry", "debug"}},
		{"entrypoint drops the image's cmd", []string{"/other"}, nil, []string{"/other"}},
		{"entrypoint and command", []string{"/other"}, []string{"x"}, []string{"/other", "x"}},
		{"an empty entrypoint runs the command alone", []string{}, []string{"sh"}, []string{"sh"}},
	} {
		got, err := MergeProcess(spec.Service{Entrypoint: c.entry, Command: c.cmd}, img)
		if err != nil || !slices.Equal(got.Args, c.want) {
			t.Errorf("%s: %v %v, want %v", c.name, got.Args, err, c.want)
		}
	}
	if _, err := MergeProcess(spec.Service{Name: "web", Image: "scratchy"}, ImageConfig{}); !errors.Is(err, ErrNoCommand) {
		t.Errorf("nothing to run: want ErrNoCommand, got %v", err)
	}
}

func TestMergeProcessEnvOverridesTheImage(t *testing.T) {
	img := ImageConfig{Cmd: []string{"x"}, Env: []string{"PATH=/img/bin", "A=image", "B=image"}}
	got, _ := MergeProcess(spec.Service{Environment: map[string]string{"B": "service", "C": "new"}}, img)
	if want := []string{"PATH=/img/bin", "A=image", "B=service", "C=new"}; !slices.Equal(got.Env, want) {
		t.Errorf("env %v, want %v", got.Env, want)
	}
	if got, _ := MergeProcess(spec.Service{}, ImageConfig{Cmd: []string{"x"}}); !slices.Equal(got.Env, []string{DefaultPath}) {
		t.Errorf("an image without PATH gets Docker's: %v", got.Env)
	}
}

func TestMergeProcessSettingsAndHealthcheck(t *testing.T) {
	imgCheck := &spec.Healthcheck{Test: []string{"CMD", "check"}, Interval: time.Second}
	img := ImageConfig{Cmd: []string{"x"}, WorkingDir: "/srv", User: "root", StopSignal: "SIGQUIT", Healthcheck: imgCheck}
	got, _ := MergeProcess(spec.Service{}, img)
	if got.WorkingDir != "/srv" || got.User != "root" || got.StopSignal != "SIGQUIT" || got.Healthcheck != imgCheck {
		t.Errorf("the image's settings apply when the service sets none: %+v", got)
	}
	off := &spec.Healthcheck{Test: []string{"NONE"}}
	got, _ = MergeProcess(spec.Service{WorkingDir: "/app", User: "app", StopSignal: "SIGTERM", Healthcheck: off}, img)
	if got.WorkingDir != "/app" || got.User != "app" || got.StopSignal != "SIGTERM" || got.Healthcheck != off {
		t.Errorf("the service's settings win: %+v", got)
	}
	if got, _ := MergeProcess(spec.Service{}, ImageConfig{Cmd: []string{"x"}}); got.WorkingDir != "/" {
		t.Errorf("no working dir anywhere is /: %q", got.WorkingDir)
	}
}

func TestPlanCarriesTheMergedProcess(t *testing.T) {
	f, p := hostWithImages(), testProject()
	before, err := PlanUp(p, f.observe(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range before.Only(Create).Actions {
		if a.Process != nil {
			t.Errorf("%s: a process planned before its image is local: %+v", a.Target, a.Process)
		}
	}
	applied := up(t, f, p, Options{})
	var web *Action
	for i, a := range applied.Actions {
		if a.ID == "create:shop-web-1" {
			web = &applied.Actions[i]
		}
	}
	if web == nil || web.Process == nil || web.Container.Process != web.Process {
		t.Fatalf("up's create of web carries no process: %+v", web)
	}
	if !slices.Equal(web.Process.Args, []string{"sh"}) || !slices.Contains(web.Process.Env, "NAME=web") || web.Process.Env[0] != DefaultPath {
		t.Errorf("web's process: %+v", web.Process)
	}
	js, err := json.Marshal(web)
	if err != nil || !strings.Contains(string(js), `"process":{"args":["sh"],"env":["`+DefaultPath+`","NAME=web"],"working_dir":"/"}`) {
		t.Errorf("plan JSON of the create: %s %v", js, err)
	}
}

func TestPlanRefusesAnImageWithNothingToRun(t *testing.T) {
	f, p := hostWithImages(), testProject()
	f.bare["web:1"] = true
	f.images["web:1"], f.images["busybox"] = f.registry["web:1"], f.registry["busybox"]
	_, err := PlanUp(p, f.observe(p), Options{})
	if !errors.Is(err, ErrNoCommand) || !strings.Contains(err.Error(), `service "web"`) {
		t.Fatalf("want the no-command error naming the service, got %v", err)
	}
}
