// Command berth-runtime is the small half of berth that runs once per
// container: the shim and libcontainer's init. It is berth's own code, but
// without the compose loader, the CLI and the image code, so that the two
// processes every container start costs load and initialise quickly.
package main

import (
	"fmt"
	"os"

	_ "github.com/berth-dev/berth/internal/hugeheap"    // the Go heap of a starter and a container's init on huge pages (not a shim's)
	_ "github.com/berth-dev/berth/internal/sysmonslack" // the Go runtime's sysmon thread sleeps with a 5 ms timer slack
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
)

func main() {
	runtime.Reexec(runtime.WithExitHook(store.RecordExitHook), runtime.WithEventHook(store.RecordEventHook))
	fmt.Fprintln(os.Stderr, "berth-runtime is started by berth, as a container's shim or init; it takes no commands of its own")
	os.Exit(2)
}
