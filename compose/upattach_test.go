package compose

import (
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/spec"
)

func attachProject() *spec.Project {
	return &spec.Project{Name: "p", Services: []spec.Service{
		{Name: "db"},
		{Name: "cache", NoAttach: true},
		{Name: "api", DependsOn: map[string]spec.Dependency{"db": {}, "cache": {}}},
		{Name: "web", DependsOn: map[string]spec.Dependency{"api": {}}},
	}}
}

func TestAttachSelection(t *testing.T) {
	p := attachProject()
	for _, tc := range []struct {
		name     string
		flags    attachFlags
		services []string
		show     []string
		monitor  []string
	}{
		{"all but attach: false", attachFlags{}, nil, []string{"db", "api", "web"}, []string{"db", "api", "web"}},
		{"only the named", attachFlags{}, []string{"web"}, []string{"web"}, []string{"web"}},
		{"with dependencies", attachFlags{dependencies: true}, []string{"api"}, []string{"db", "api"}, []string{"api"}},
		{"--attach overrides attach: false", attachFlags{attach: []string{"cache"}}, nil, []string{"cache"}, []string{"cache"}},
		{"--attach a dependency", attachFlags{attach: []string{"db"}}, []string{"web"}, []string{"db"}, []string{"web"}},
		{"--no-attach", attachFlags{noAttach: []string{"db"}}, nil, []string{"api", "web"}, []string{"api", "web"}},
	} {
		o, err := tc.flags.options(p, tc.services, nil)
		if err != nil || !slices.Equal(o.show, tc.show) || !slices.Equal(o.monitor, tc.monitor) {
			t.Errorf("%s: show %v monitor %v (%v), want %v %v", tc.name, o.show, o.monitor, err, tc.show, tc.monitor)
		}
	}
	if _, err := (attachFlags{attach: []string{"web"}}).options(p, []string{"api"}, nil); err == nil || err.Error() != "cannot attach to services not included in up: web" {
		t.Errorf("--attach of a service not brought up: %v", err)
	}
	if _, err := (attachFlags{attach: []string{"db"}, noDeps: true}).options(p, []string{"api"}, nil); err == nil {
		t.Error("--attach of a dependency --no-deps leaves out must fail")
	}
	if _, err := (attachFlags{exitCodeFrom: "nope"}).options(p, nil, nil); err == nil || !strings.Contains(err.Error(), "no such service: nope") {
		t.Errorf("--exit-code-from an unknown service: %v", err)
	}
}

func TestUpFlagCombinations(t *testing.T) {
	for _, tc := range []struct {
		o    upOptions
		want string
	}{
		{upOptions{detach: true, attached: attachFlags{abortOnExit: true}}, "--detach cannot be combined with"},
		{upOptions{detach: true, attached: attachFlags{exitCodeFrom: "db"}}, "--detach cannot be combined with"},
		{upOptions{wait: true, attached: attachFlags{attach: []string{"db"}}}, "--wait cannot be combined with --abort-on-container-exit, --attach"},
		{upOptions{wait: true, attached: attachFlags{abortOnFailure: true}}, "--wait cannot be combined with --abort-on-container-exit, --abort-on-container-failure"},
		{upOptions{attached: attachFlags{abortOnExit: true, abortOnFailure: true}}, "--abort-on-container-failure cannot be combined with --abort-on-container-exit"},
		{upOptions{attached: attachFlags{attach: []string{"db"}, dependencies: true}}, "cannot combine --attach and --attach-dependencies"},
		{upOptions{waitTimeout: -1}, "--wait-timeout must be a non-negative integer"},
		{upOptions{createOptions: createOptions{noRecreate: true}, recreate: depsFlags{renewAnonVolumes: true}}, "--no-recreate and --renew-anon-volumes are incompatible"},
		{upOptions{createOptions: createOptions{noRecreate: true}, recreate: depsFlags{alwaysRecreateDeps: true}}, "--always-recreate-deps and --no-recreate are incompatible"},
		{upOptions{attached: attachFlags{exitCodeFrom: "db", abortOnFailure: true}}, ""},
	} {
		err := tc.o.validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("%+v: want %q, got %v", tc.o, tc.want, err)
		}
	}
	o := upOptions{wait: true}
	if o.validate(); !o.detach {
		t.Error("--wait must imply -d")
	}
}
