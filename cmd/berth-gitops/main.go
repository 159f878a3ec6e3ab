// Command berth-gitops is berth with reconcile's git follower and metrics
// linked in (package gitopscli, on go-git and the Prometheus client):
// berth execs it for reconcile --git and --metrics, with the same
// arguments, so that neither library weighs on any other command.
package main

import (
	"os"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/gitopscli"
	_ "github.com/berth-dev/berth/internal/hugeheap" // the Go heap on huge pages from its first touch
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
)

func main() {
	// The loop runs containers: berth-gitops serves as its own shim and
	// container init when berth-runtime is not installed beside it.
	runtime.Reexec(runtime.WithExitHook(store.RecordExitHook), runtime.WithEventHook(store.RecordEventHook))
	os.Exit(compose.Execute(compose.WithGitOps(gitopscli.Runner{})))
}
