// Command berth runs Docker Compose stacks without a daemon.
package main

import (
	"os"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/runtime"
)

func main() {
	// A re-executed berth may be libcontainer's init or a container's shim;
	// Reexec handles both and never returns for them.
	runtime.Reexec(runtime.WithExitHook(engine.RecordExit))
	os.Exit(compose.Execute())
}
