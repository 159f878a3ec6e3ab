package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The engine opens beside the project's load: a session on a fresh root
// gets both, and a stack file that does not load still fails with the
// loader's error (not the engine's), the engine opened meanwhile closed.
func TestSessionOpensEngineBesideLoad(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("opening the engine needs root")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte("services:\n  a:\n    image: busybox\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	g := &globals{root: filepath.Join(dir, "root"), runRoot: filepath.Join(dir, "run"), config: config, files: []string{file}}
	s, err := g.openStack(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.project.Service("a"); !ok || s.engine == nil {
		t.Fatalf("session without the project or the engine: %+v", s)
	}
	s.close()
	// The root did not exist when the load began: no cache was written
	// into the root the engine was making meanwhile.
	if _, err := os.Stat(filepath.Join(g.root, "cache")); !os.IsNotExist(err) {
		t.Errorf("project cached in a root made by the same session: %v", err)
	}

	if err := os.WriteFile(file, []byte("services: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := g.openStack(context.Background()); err == nil || !strings.Contains(err.Error(), "compose.yaml") {
		t.Fatalf("a stack file that does not parse: got %v", err)
	}
	// The loader's error also wins over an engine that failed to open.
	g.config = filepath.Join(dir, "missing.yaml")
	if _, err := g.openStack(context.Background()); err == nil || !strings.Contains(err.Error(), "compose.yaml") {
		t.Fatalf("a stack file that does not parse, with a missing --config: got %v", err)
	}
	// A good stack file with an engine that fails: the engine's error.
	if err := os.WriteFile(file, []byte("services:\n  a:\n    image: busybox\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := g.openStack(context.Background()); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("a missing --config: got %v", err)
	}
}
