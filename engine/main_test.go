package engine

import (
	"os"
	"testing"

	"github.com/berth-dev/berth/runtime"
)

// TestMain lets this test binary serve as berth's shim and container init.
func TestMain(m *testing.M) {
	runtime.Reexec(runtime.WithExitHook(RecordExit))
	os.Exit(m.Run())
}
