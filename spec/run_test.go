package spec

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRunService(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
services:
  web:
    image: busybox
    command: ["serve"]
    entrypoint: ["/entry"]
    environment: {A: "1", B: "2"}
    ports: ["8080:80"]
    labels: {tier: front}
    networks:
      default:
        aliases: [www]
volumes:
  data: {}
`, "run.env": "B=from-file\nC=from-file\n"})
	p := mustLoad(t, LoadOptions{WorkingDir: dir, Environ: []string{"FROM_HOST=h"}})
	svc, err := p.RunService("web", RunOverrides{Command: []string{"migrate"}, Environment: []string{"A=cli", "FROM_HOST", "UNSET"},
		EnvFiles: []string{filepath.Join(dir, "run.env")}, Labels: map[string]string{"job": "migrate"}, User: "1000", WorkingDir: "/app",
		Publish: []string{"127.0.0.1:9000:90"}, Volumes: []string{"./src:/src:ro", "data:/data"}, Tty: true, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(svc.Command, []string{"migrate"}) || !slices.Equal(svc.Entrypoint, []string{"/entry"}) || svc.User != "1000" || svc.WorkingDir != "/app" || !svc.Tty || !svc.StdinOpen {
		t.Errorf("command, user, workdir, tty: %+v", svc)
	}
	if e := svc.Environment; e["A"] != "cli" || e["B"] != "from-file" || e["C"] != "from-file" || e["FROM_HOST"] != "h" || len(e) != 4 {
		t.Errorf("environment: %v", e)
	}
	if svc.Labels["job"] != "migrate" || svc.Labels["tier"] != "front" {
		t.Errorf("labels: %v", svc.Labels)
	}
	if len(svc.Ports) != 1 || svc.Ports[0].Target != 90 || svc.Ports[0].HostIP != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("only -p is published: %+v", svc.Ports)
	}
	if len(svc.Mounts) != 2 || !slices.ContainsFunc(svc.Mounts, func(m Mount) bool { return m.Source == "data" && m.Type == MountVolume }) ||
		!slices.ContainsFunc(svc.Mounts, func(m Mount) bool { return m.Source == filepath.Join(dir, "src") && m.ReadOnly }) {
		t.Errorf("volumes: %+v", svc.Mounts)
	}
	if a := svc.Networks["default"].Aliases; len(a) != 0 {
		t.Errorf("without --use-aliases a one-off has no aliases: %v", a)
	}
	if orig := mustService(t, p, "web"); !slices.Equal(orig.Command, []string{"serve"}) || len(orig.Ports) != 1 || orig.Environment["A"] != "1" {
		t.Errorf("the project's service changed: %+v", orig)
	}

	svc, err = p.RunService("web", RunOverrides{Entrypoint: []string{"sh"}, ServicePorts: true, UseAliases: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Command) != 0 || svc.Command == nil || len(svc.Ports) != 1 || !slices.Equal(svc.Networks["default"].Aliases, []string{"web", "www"}) {
		t.Errorf("--entrypoint drops the command, --service-ports keeps the ports, --use-aliases the aliases: %+v", svc)
	}

	for _, o := range []RunOverrides{{Publish: []string{"x:y"}}, {Volumes: []string{"nosuch:/x"}}, {Publish: []string{"80/sctp"}}} {
		if _, err := p.RunService("web", o); err == nil {
			t.Errorf("%+v: accepted", o)
		} else if !strings.Contains(err.Error(), "--") && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%+v: the error names neither the flag nor an unsupported value: %v", o, err)
		}
	}
	if _, err := p.RunService("nosuch", RunOverrides{}); err == nil {
		t.Error("an unknown service was run")
	}
}

func TestProjectNameAsLoadGivesIt(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		o     LoadOptions
	}{
		{"name key", map[string]string{"compose.yaml": "name: shop\nservices: {web: {image: x}}\n"}, LoadOptions{}},
		{"interpolated name", map[string]string{"compose.yaml": "name: ${P:-fallback}\nservices: {web: {image: x}}\n"}, LoadOptions{Environ: []string{"P=fromenv"}}},
		{"directory", map[string]string{"compose.yaml": "services: {web: {image: x}}\n"}, LoadOptions{}},
		{"-p", map[string]string{"compose.yaml": "name: shop\nservices: {web: {image: x}}\n"}, LoadOptions{ProjectName: "given"}},
		{".env", map[string]string{"compose.yaml": "services: {web: {image: x}}\n", ".env": "COMPOSE_PROJECT_NAME=dotenv\n"}, LoadOptions{}},
	} {
		dir := writeProject(t, c.files)
		c.o.WorkingDir = dir
		if c.o.Environ == nil {
			c.o.Environ = []string{}
		}
		want := mustLoad(t, c.o).Name
		if got, err := ProjectName(context.Background(), c.o); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q as Load gives", c.name, got, err, want)
		}
	}
}

func BenchmarkProjectName(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services:\n  web:\n    image: busybox\n    ports: [\"80:80\"]\n    environment: {A: b}\n  db:\n    image: busybox\n"), 0o644)
	o := LoadOptions{WorkingDir: dir, Environ: []string{}}
	b.Run("Load", func(b *testing.B) {
		for b.Loop() {
			if _, err := Load(context.Background(), o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ProjectName", func(b *testing.B) {
		for b.Loop() {
			if _, err := ProjectName(context.Background(), o); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestLoadHealthcheckStartInterval(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
services:
  web:
    image: x
    healthcheck: {test: ["CMD", "true"], start_period: 30s, start_interval: 250ms}
`})
	if h := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir}), "web").Healthcheck; h == nil || h.StartInterval != 250*time.Millisecond {
		t.Fatalf("start_interval: %+v", h)
	}
}
