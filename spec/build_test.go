package spec

import (
	"errors"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestBuildShortForm(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml":   "name: app\nservices:\n  web:\n    build: ./web\n",
		"web/Dockerfile": "FROM busybox\n",
	})
	s := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir}), "web")
	want := &Build{Context: filepath.Join(dir, "web"), Dockerfile: filepath.Join(dir, "web", "Dockerfile")}
	if !reflect.DeepEqual(s.Build, want) {
		t.Errorf("Build = %+v, want %+v", s.Build, want)
	}
	if s.Image != "app-web" {
		t.Errorf("Image = %q, want Compose's default name app-web", s.Image)
	}
}

func TestBuildLongForm(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": `name: app
services:
  web:
    image: registry.example/web:1
    build:
      context: .
      dockerfile: docker/Web.Dockerfile
      args:
        VERSION: "2"
        UNSET:
      target: prod
      tags: [b/web:x, a/web:y]
      labels: {org.example.team: web}
      no_cache: true
      pull: true
      network: host
      extra_hosts: ["db:10.0.0.2"]
      secrets:
        - token
        - source: token
          target: tok2
      platforms: ["linux/` + runtime.GOARCH + `"]
secrets:
  token:
    file: ./token.txt
`,
		"token.txt": "s3cret",
	})
	s := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir}), "web")
	b := s.Build
	if b == nil {
		t.Fatal("no Build")
	}
	if b.Context != dir || b.Dockerfile != filepath.Join(dir, "docker/Web.Dockerfile") || b.Target != "prod" ||
		!b.NoCache || !b.Pull || b.Network != "host" {
		t.Errorf("Build = %+v", b)
	}
	if !reflect.DeepEqual(b.Args, map[string]string{"VERSION": "2"}) {
		t.Errorf("Args = %v, want VERSION only (UNSET has no value)", b.Args)
	}
	if !reflect.DeepEqual(b.Labels, map[string]string{"org.example.team": "web"}) {
		t.Errorf("Labels = %v", b.Labels)
	}
	if !reflect.DeepEqual(b.Tags, []string{"a/web:y", "b/web:x"}) {
		t.Errorf("Tags = %v", b.Tags)
	}
	if len(b.ExtraHosts) != 1 || b.ExtraHosts[0].Name != "db" || b.ExtraHosts[0].IP.String() != "10.0.0.2" {
		t.Errorf("ExtraHosts = %v", b.ExtraHosts)
	}
	token := filepath.Join(dir, "token.txt")
	if !reflect.DeepEqual(b.Secrets, map[string]string{"token": token, "tok2": token}) {
		t.Errorf("Secrets = %v", b.Secrets)
	}
	if s.Image != "registry.example/web:1" {
		t.Errorf("Image = %q, want the image: given", s.Image)
	}
}

func TestBuildInline(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": "name: app\nservices:\n  web:\n    build:\n      dockerfile_inline: |\n        FROM busybox\n",
	})
	b := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir}), "web").Build
	if b.DockerfileInline != "FROM busybox\n" || b.Dockerfile != "" || b.Context != dir {
		t.Errorf("Build = %+v", b)
	}
}

// A service's build section does not change its config hash: its image
// does, and the planner compares images.
func TestBuildNotHashed(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": "name: app\nservices:\n  web:\n    build:\n      context: .\n      args: {A: '1'}\n",
	})
	s := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir}), "web")
	other := s
	other.Build = &Build{Context: "/elsewhere"}
	if ConfigHash(s) != ConfigHash(other) {
		t.Error("the build section changed the config hash")
	}
	back, err := ParseCanonical(s.Canonical())
	if err != nil || !reflect.DeepEqual(back.Build, s.Build) {
		t.Errorf("canonical round trip: %v, %+v", err, back.Build)
	}
}

func TestBuildShmSizeAndContexts(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": "name: app\nservices:\n  base:\n    build: ./base\n  web:\n    build:\n      context: .\n      shm_size: 128m\n" +
			"      additional_contexts:\n        assets: ./assets\n        base: service:base\n        tools: docker-image://busybox:1\n",
	})
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	web, _ := p.Service("web")
	want := map[string]string{"assets": filepath.Join(dir, "assets"), "base": "service:base", "tools": "docker-image://busybox:1"}
	if web.Build.ShmSize != 128<<20 || !reflect.DeepEqual(web.Build.AdditionalContexts, want) {
		t.Errorf("build = %+v", web.Build)
	}
	if ContextService("service:base") != "base" || ContextService("/x") != "" {
		t.Error("ContextService")
	}
}

func TestBuildRefused(t *testing.T) {
	for _, tc := range []struct {
		name, build string
		kind        error
		want        string
	}{
		{"git", "context: https://github.com/x/y.git", ErrUnsupported, `compose.yaml:6: service "web": build context "https://github.com/x/y.git" (a git repository or URL) is not supported by berth yet`},
		{"cache_from", "context: .\n      cache_from: [x]", ErrUnsupported, `compose.yaml:7: service "web": build.cache_from is not supported by berth yet`},
		{"additional git", "context: .\n      additional_contexts: {x: 'https://github.com/x/y.git'}", ErrUnsupported, `build additional context "x" = "https://github.com/x/y.git" (only directories, docker-image:// and service:) is not supported`},
		{"additional oci", "context: .\n      additional_contexts: {x: 'oci-layout:///tmp/l'}", ErrUnsupported, `only directories, docker-image:// and service:`},
		{"additional service", "context: .\n      additional_contexts: {x: 'service:nope'}", ErrInvalid, `service "web" declares unknown service "nope" as additional contexts x`},
		{"network", "context: .\n      network: backend", ErrUnsupported, `build network "backend"`},
		{"platforms", "context: .\n      platforms: [linux/amd64, linux/arm64]", ErrUnsupported, "building for more than one platform"},
		{"platform", "context: .\n      platforms: [windows/amd64]", ErrUnsupported, "build platform windows/amd64"},
		{"secret", "context: .\n      secrets: [nope]", ErrInvalid, `undefined build secret nope`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{
				"compose.yaml": "name: app\nservices:\n  web:\n    image: x\n    build:\n      " + tc.build + "\n",
			})
			err := loadErr(t, LoadOptions{WorkingDir: dir})
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %v containing %q", err, tc.kind, tc.want)
			}
		})
	}
}

func TestPullPolicyBuildNeedsBuild(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": "name: app\nservices:\n  web:\n    image: x\n    pull_policy: build\n",
	})
	err := loadErr(t, LoadOptions{WorkingDir: dir})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "pull_policy build needs a build section") {
		t.Errorf("err = %v", err)
	}
}

func TestSetBuildArgs(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": "name: app\nservices:\n  web:\n    build:\n      context: .\n      args: {A: '1', B: '2'}\n  db:\n    image: db\n",
	})
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	orig := mustService(t, p, "web").Build
	p.SetBuildArgs(map[string]string{"B": "3"})
	if got := mustService(t, p, "web").Build.Args; !reflect.DeepEqual(got, map[string]string{"A": "1", "B": "3"}) {
		t.Errorf("Args = %v", got)
	}
	if orig.Args["B"] != "2" {
		t.Error("SetBuildArgs changed the loaded section in place")
	}
	if mustService(t, p, "db").Build != nil || len(p.BuildServices()) != 1 {
		t.Error("a pulled service got a build")
	}
}
