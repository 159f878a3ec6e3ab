package compose

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// daemon.json as Docker users have it.
	s, err := loadSettings(write("daemon.json", `{"registry-mirrors": ["https://m1.example", "https://m2.example"], "insecure-registries": ["reg.lan:5000", "10.1.0.0/16"]}`), true)
	if err != nil || !slices.Equal(s.RegistryMirrors, []string{"https://m1.example", "https://m2.example"}) || len(s.InsecureRegistries) != 2 {
		t.Fatalf("%+v %v", s, err)
	}
	if _, err := loadSettings(write("bad.yaml", "registry-mirrors: []\nregistry-mirror: [x]\n"), true); err == nil ||
		!strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "registry-mirror") {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := loadSettings(filepath.Join(dir, "none.yaml"), false); err != nil {
		t.Fatalf("a missing default file is fine: %v", err)
	}
	if _, err := loadSettings(filepath.Join(dir, "none.yaml"), true); err == nil {
		t.Fatal("a missing named file is an error")
	}
	if s, err := loadSettings(write("empty.yaml", ""), true); err != nil || s.RegistryMirrors != nil {
		t.Fatalf("empty file: %+v %v", s, err)
	}
}
