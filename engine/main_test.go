package engine

import (
	"os"
	"testing"

	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
)

// TestMain lets this test binary serve as berth's shim and container init.
func TestMain(m *testing.M) {
	runtime.Reexec(runtime.WithExitHook(store.RecordExitHook))
	os.Exit(m.Run())
}
