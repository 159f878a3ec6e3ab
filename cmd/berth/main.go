// Command berth runs Docker Compose stacks without a daemon.
package main

import (
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/berth-dev/berth/compose"
	_ "github.com/berth-dev/berth/internal/hugeheap" // the Go heap on huge pages from its first touch
	"github.com/berth-dev/berth/internal/phase"
	_ "github.com/berth-dev/berth/internal/sysmonslack" // the Go runtime's sysmon thread sleeps with a 5 ms timer slack
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
)

func main() {
	// berth can serve as its own shim and container init (when
	// berth-runtime is not installed beside it); Reexec handles both and
	// never returns for them.
	runtime.Reexec(runtime.WithExitHook(store.RecordExitHook), runtime.WithEventHook(store.RecordEventHook))
	tuneGC()
	stop := cpuProfile()
	t := time.Now()
	code := compose.Execute()
	phase.Record("", "command", t, time.Since(t))
	stop()
	os.Exit(code)
}

// cpuProfile writes a CPU profile of the command (pprof format) to the
// file named by BERTH_CPUPROFILE, when set, for finding where a command's
// own CPU goes; it returns the function that ends it.
func cpuProfile() func() {
	path := os.Getenv("BERTH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// tuneGC collects at three times the live heap rather than twice: a
// command lives milliseconds with a heap of a few MB, and the collections
// the default pace makes were a fifth of the CPU of a no-op `up`. Not
// five times: a heap let grow further is fresh pages, each a page fault,
// which on a guest where a fault costs tens of microseconds cost more
// than the collections saved (a load of 50 services without the project
// cache, 132 -> 119 ms; no-op, cold and recreating ups and pulls level or
// faster). The soft limit keeps a command that holds much (a pull) from
// growing threefold past it. GOGC and GOMEMLIMIT in the environment still
// decide.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}
