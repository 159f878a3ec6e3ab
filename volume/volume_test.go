package volume

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCreateKeepsDataAndRemoveDeletes(t *testing.T) {
	m := New(t.TempDir())
	p, err := m.Create("proj_data")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("proj_data"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(p, "f")); err != nil || string(b) != "x" {
		t.Fatalf("second Create lost data: %q %v", b, err)
	}
	if !m.Exists("proj_data") {
		t.Fatal("volume does not exist")
	}
	if err := m.Remove("proj_data"); err != nil || m.Exists("proj_data") {
		t.Fatalf("remove: %v", err)
	}
	for _, bad := range []string{"", "..", "a/b", "../x"} {
		if _, err := m.Create(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Create(%q) = %v", bad, err)
		}
	}
}

func TestPrepareBind(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "a", "b")
	if err := PrepareBind(missing, false); err == nil {
		t.Fatal("missing path accepted without create")
	}
	if err := PrepareBind(missing, true); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
		t.Fatalf("not created: %v", err)
	}
	if err := PrepareBind("rel/path", true); err == nil {
		t.Fatal("relative path accepted")
	}
}
