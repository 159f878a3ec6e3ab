package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/spec"
)

// stack20 writes a stack of n services, each with ports, a healthcheck,
// a volume and environment, and loads it.
func stack20(t testing.TB, n int) *spec.Project {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("name: bench\nservices:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d:\n    image: busybox\n    restart: always\n    command: [httpd, -f]\n    environment: {A: %d, B: b}\n"+
			"    ports: [\"%d:80\"]\n    healthcheck: {test: [CMD, \"true\"], interval: 5s}\n    volumes: [\"v%d:/data\"]\n", i, i, 8000+i, i)
	}
	b.WriteString("volumes:\n")
	for i := range n {
		fmt.Fprintf(&b, "  v%d: {}\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := spec.Load(context.Background(), spec.LoadOptions{WorkingDir: dir, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// BenchmarkRender20: rendering a 20-service stack (goal: ≤ 50 ms).
func BenchmarkRender20(b *testing.B) {
	p := stack20(b, 20)
	for b.Loop() {
		objs, err := Render(p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Manifests(objs); err != nil {
			b.Fatal(err)
		}
	}
}
