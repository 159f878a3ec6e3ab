package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/internal/kubetest"
)

// TestMain removes the binaries the tests built once they have run, and
// stops the test control plane of the kube tests.
func TestMain(m *testing.M) {
	code := kubetest.Main(m)
	if berthBin != "" {
		os.RemoveAll(filepath.Dir(berthBin))
	}
	os.Exit(code)
}
