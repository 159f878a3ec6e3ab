package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/kubetest"
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

// BenchmarkPlanKube20: plan --kube of a 20-service stack already up,
// against the local API server (goal: ≤ 1 s): observe, dry-run every
// object, plan.
func BenchmarkPlanKube20(b *testing.B) {
	srv := kubetest.Shared(b)
	c, err := NewCluster(srv.Config, srv.Namespace(b))
	if err != nil {
		b.Fatal(err)
	}
	p := stack20(b, 20)
	ctx := context.Background()
	objs, err := Render(p, Options{Namespace: c.Namespace})
	if err != nil {
		b.Fatal(err)
	}
	planOnce := func() Plan {
		obs, err := c.Observe(ctx, p.Name, objs)
		if err != nil {
			b.Fatal(err)
		}
		dry, err := c.DryRun(ctx, objs, false)
		if err != nil {
			b.Fatal(err)
		}
		pl, err := PlanApply(p.Name, objs, obs, dry)
		if err != nil {
			b.Fatal(err)
		}
		return pl
	}
	if err := c.Apply(ctx, planOnce(), false, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if pl := planOnce(); !pl.Empty() {
			b.Fatalf("plan after up:\n%s", pl)
		}
	}
}
