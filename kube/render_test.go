package kube

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// load loads the stack of testdata/<name>.
func load(t testing.TB, name string) *spec.Project {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := spec.Load(context.Background(), spec.LoadOptions{WorkingDir: dir, Environ: []string{}})
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	return p
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./kube -run %s -update)", err, t.Name())
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from what Render gives:\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// TestRenderGolden renders each stack of testdata, one file per object,
// against its golden directory; together they cover every row of
// docs/kube.md that maps.
func TestRenderGolden(t *testing.T) {
	for _, stack := range []string{"web", "jobs"} {
		t.Run(stack, func(t *testing.T) {
			objs, err := Render(load(t, stack), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, o := range objs {
				b, err := o.YAML()
				if err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join(stack, "golden", o.FileName()), b)
				names = append(names, o.FileName())
			}
			// No golden file without its object.
			entries, _ := os.ReadDir(filepath.Join("testdata", stack, "golden"))
			for _, e := range entries {
				if !slices.Contains(names, e.Name()) {
					if *update {
						os.Remove(filepath.Join("testdata", stack, "golden", e.Name()))
						continue
					}
					t.Errorf("golden %s has no object", e.Name())
				}
			}
		})
	}
}

// TestRenderDeterministic: two renders of one project are byte for byte
// the same.
func TestRenderDeterministic(t *testing.T) {
	p := load(t, "web")
	var first []byte
	for i := range 5 {
		objs, err := Render(p, Options{Namespace: "prod"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Manifests(objs)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
		} else if string(b) != string(first) {
			t.Fatalf("render %d differs from the first", i)
		}
	}
	if !strings.Contains(string(first), "namespace: prod") {
		t.Error("the namespace option is not set on the objects")
	}
}

// TestRenderRefused: every key the mapping cannot express is refused in
// one error, each line naming file, line and key.
func TestRenderRefused(t *testing.T) {
	_, err := Render(load(t, "refused"), Options{})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("Render = %v, want ErrRefused", err)
	}
	golden(t, "refused/error.golden", []byte(err.Error()+"\n"))
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, "compose.yaml:") {
			t.Errorf("refusal %q does not name file and line", line)
		}
	}
}

// TestRenderOptions: bind mounts become hostPath only when allowed, and
// published ports take the Service type asked for.
func TestRenderOptions(t *testing.T) {
	p := load(t, "web")
	objs, err := Render(p, Options{PublishedType: "NodePort", StorageClass: "fast", VolumeSize: "2Gi"})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := Manifests(objs)
	for _, want := range []string{"type: NodePort", "storageClassName: fast", "storage: 5Gi"} {
		if !strings.Contains(string(all), want) {
			t.Errorf("manifests lack %q", want)
		}
	}
	if _, err := Render(p, Options{PublishedType: "ExternalName"}); err == nil {
		t.Error("Render took an unknown published service type")
	}
}

// TestRenderHostPath: a bind mount is refused unless allowed, and then a
// hostPath volume.
func TestRenderHostPath(t *testing.T) {
	dir := t.TempDir()
	stack := "services:\n  app:\n    image: busybox\n    restart: always\n    volumes:\n      - /srv/data:/data:ro\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := spec.Load(context.Background(), spec.LoadOptions{WorkingDir: dir, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(p, Options{}); err == nil || !strings.Contains(err.Error(), "compose.yaml:5: service \"app\": bind mount of /srv/data refused") {
		t.Errorf("a bind mount without --allow-hostpath: %v", err)
	}
	objs, err := Render(p, Options{AllowHostPath: true})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := Manifests(objs)
	for _, want := range []string{"hostPath:\n          path: /srv/data\n          type: DirectoryOrCreate", "mountPath: /data\n          name: mount-0\n          readOnly: true"} {
		if !strings.Contains(string(all), want) {
			t.Errorf("manifests lack %q:\n%s", want, all)
		}
	}
}

// TestRenderUpdateConfig: deploy.update_config is the Deployment's
// strategy: start-first a surge of parallelism pods (all without it) and
// none unavailable, stop-first all at once Recreate and by parallelism
// none surging, delay minReadySeconds; without it, Kubernetes' default.
func TestRenderUpdateConfig(t *testing.T) {
	for _, c := range []struct {
		name, update string
		parallelism  int // set on the loaded service: spec refuses parallelism with stop-first for the host
		want         string
	}{
		{"none", "", 0, "  strategy: {}\n"},
		{"start-first", "order: start-first\n        parallelism: 2\n        delay: 3s", 0,
			"  minReadySeconds: 3\n  replicas: 4\n  selector:\n    matchLabels:\n      berth.dev/project: p\n      berth.dev/service: app\n  strategy:\n    rollingUpdate:\n      maxSurge: 2\n      maxUnavailable: 0\n    type: RollingUpdate\n"},
		{"start-first-all", "order: start-first", 0, "  strategy:\n    rollingUpdate:\n      maxSurge: 100%\n      maxUnavailable: 0\n    type: RollingUpdate\n"},
		{"stop-first", "order: stop-first", 0, "  strategy:\n    type: Recreate\n"},
		{"stop-first-batches", "order: stop-first", 2, "  strategy:\n    rollingUpdate:\n      maxSurge: 0\n      maxUnavailable: 2\n    type: RollingUpdate\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := "name: p\nservices:\n  app:\n    image: busybox\n    restart: always\n    deploy:\n      replicas: 4\n"
			if c.update != "" {
				stack += "      update_config:\n        " + c.update + "\n"
			}
			p := loadStack(t, stack)
			if c.parallelism != 0 {
				p.Services[0].Update.Parallelism = c.parallelism
			}
			objs, err := Render(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			d, _ := objs[slices.IndexFunc(objs, func(o Object) bool { return o.GetKind() == "Deployment" })].YAML()
			if !strings.Contains(string(d), c.want) {
				t.Errorf("the Deployment lacks\n%s\n%s", c.want, d)
			}
		})
	}
}

// loadStack loads a stack file's content.
func loadStack(t *testing.T, stack string) *spec.Project {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := spec.Load(context.Background(), spec.LoadOptions{WorkingDir: dir, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
