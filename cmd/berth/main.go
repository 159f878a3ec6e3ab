// Command berth runs Docker Compose stacks without a daemon.
package main

import (
	"os"
	"time"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
)

func main() {
	// berth can serve as its own shim and container init (when
	// berth-runtime is not installed beside it); Reexec handles both and
	// never returns for them.
	runtime.Reexec(runtime.WithExitHook(store.RecordExitHook), runtime.WithEventHook(store.RecordEventHook))
	t := time.Now()
	code := compose.Execute()
	phase.Record("", "command", t, time.Since(t))
	os.Exit(code)
}
