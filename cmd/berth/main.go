// Command berth runs Docker Compose stacks without a daemon.
package main

import (
	"os"
	"runtime/debug"
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
	tuneGC()
	t := time.Now()
	code := compose.Execute()
	phase.Record("", "command", t, time.Since(t))
	os.Exit(code)
}

// tuneGC collects at five times the live heap rather than twice: a
// command lives milliseconds with a heap of a few MB, and the collections
// the default pace makes were a fifth of the CPU of a no-op `up`. The soft
// limit keeps a command that holds much (a pull) from growing fivefold
// past it. GOGC and GOMEMLIMIT in the environment still decide.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}
