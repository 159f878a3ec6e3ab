package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the binaries the tests built once they have run.
func TestMain(m *testing.M) {
	code := m.Run()
	if berthBin != "" {
		os.RemoveAll(filepath.Dir(berthBin))
	}
	os.Exit(code)
}
