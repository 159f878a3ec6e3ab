// Command berth runs Docker Compose stacks without a daemon.
package main

import (
	"context"
	"os"
	"time"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
)

func main() {
	// A re-executed berth may be libcontainer's init or a container's shim;
	// Reexec handles both and never returns for them.
	runtime.Reexec(runtime.WithExitHook(recordExit))
	os.Exit(compose.Execute())
}

// recordExit is the shim's exit hook: it records a container's exit code
// and time in the store of the root the shim serves.
func recordExit(root, id string, code int, at time.Time) {
	st, err := store.Open(root)
	if err != nil {
		return
	}
	defer st.Close()
	_ = st.RecordExit(context.Background(), id, code, at)
}
