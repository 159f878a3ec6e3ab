package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// writeFileAtomic leaves only the file it wrote, and nothing when it fails.
func TestWriteFileAtomicLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "config.json")
	for _, data := range []string{"one", "two"} {
		if err := writeFileAtomic(name, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(name); err != nil || string(got) != data {
			t.Fatalf("read back %q, %v; want %q", got, err, data)
		}
	}
	// A rename that fails: the name is a directory that is not empty.
	busy := filepath.Join(dir, "busy")
	if err := os.MkdirAll(filepath.Join(busy, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(busy, []byte("three")); err == nil {
		t.Fatal("writing over a directory that is not empty succeeded")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"busy", "config.json"}; !slices.Equal(names, want) {
		t.Errorf("left in the directory: %v, want %v", names, want)
	}
}
