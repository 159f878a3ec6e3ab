package spec

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModelViews(t *testing.T) {
	dir := t.TempDir()
	yaml := "services:\n  a:\n    image: busybox:${TAG:-1}\n    profiles: [x]\n  b:\n    image: alpine\n    profiles: [y, x]\n  c:\n    image: ${IMG?need an image}\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	o := LoadOptions{WorkingDir: dir, ProjectName: "m", Environ: []string{"IMG=nginx"}}
	ctx := context.Background()
	p, err := Load(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.AllProfiles(), ","); got != "x,y" {
		t.Errorf("AllProfiles = %s", got)
	}
	if env := strings.Join(p.Environment(), " "); !strings.Contains(env, "IMG=nginx") {
		t.Errorf("Environment = %s", env)
	}
	vars, err := Variables(ctx, o)
	if err != nil || len(vars) != 2 || !vars["IMG"].Required || vars["TAG"].DefaultValue != "1" {
		t.Errorf("Variables = %+v, %v", vars, err)
	}
	raw, err := RenderModel(ctx, o, ModelOptions{Format: "yaml", Normalize: true})
	if err != nil || !strings.Contains(string(raw), "image: ${IMG?need an image}") {
		t.Errorf("uninterpolated:\n%s %v", raw, err)
	}
	resolve := func(ref string) (string, error) {
		if ref == "docker.io/library/nginx:latest" {
			return "sha256:" + strings.Repeat("a", 64), nil
		}
		return "", errors.New("unknown " + ref)
	}
	if err := p.ResolveImages(resolve); err != nil {
		t.Fatal(err)
	}
	if out, _ := p.Render("yaml"); !strings.Contains(string(out), "image: docker.io/library/nginx:latest@sha256:"+strings.Repeat("a", 64)) {
		t.Errorf("resolved:\n%s", out)
	}
	if _, err := RenderModel(ctx, o, ModelOptions{Format: "yaml", Interpolate: true, Resolve: func(string) (string, error) { return "", errors.New("not local") }}); err == nil || !strings.Contains(err.Error(), "not local") {
		t.Errorf("a failing resolver: %v", err)
	}
}

func TestExposedPorts(t *testing.T) {
	for in, want := range map[string]string{"80": "80/tcp", "53/udp": "53/udp", "8000-8002": "8000/tcp 8001/tcp 8002/tcp"} {
		got, err := exposedPorts(in)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "0", "80/ip", "9-8", "70000"} {
		if _, err := exposedPorts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
