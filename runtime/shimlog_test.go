package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A shim.log over the limit moves to shim.log.1 and starts empty, while a
// writer holding it open (as the shim does, O_APPEND) writes on into it.
func TestShimLogRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shim.log")
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteString(strings.Repeat("a", 100))
	if err := rotateShimLog(path, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".1"); !os.IsNotExist(err) {
		t.Errorf("a small log was rotated: %v", err)
	}
	w.WriteString(strings.Repeat("b", 2000))
	if err := rotateShimLog(path, 1000); err != nil {
		t.Fatal(err)
	}
	w.WriteString("after\n")
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if len(old) != 2100 || string(cur) != "after\n" {
		t.Errorf("after rotation: shim.log.1 has %d bytes, shim.log %q", len(old), cur)
	}
}
