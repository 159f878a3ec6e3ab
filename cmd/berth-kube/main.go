// Command berth-kube is berth with the Kubernetes forms of its commands
// linked in (package kubecli, on client-go): berth execs it for kube
// render and for plan, up, down, ps and reconcile --kube, with the same
// arguments, so that client-go weighs on no other command. reconcile
// --kube follows git and serves metrics as the host's loop does, so
// berth-kube links package gitopscli too.
package main

import (
	"os"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/gitopscli"
	_ "github.com/berth-dev/berth/internal/hugeheap" // the Go heap on huge pages from its first touch
	"github.com/berth-dev/berth/kubecli"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
)

func main() {
	// up --kube --build builds on this host, as berth does: berth-kube
	// serves as its own shim and container init when berth-runtime is not
	// installed beside it.
	runtime.Reexec(runtime.WithExitHook(store.RecordExitHook), runtime.WithEventHook(store.RecordEventHook))
	os.Exit(compose.Execute(compose.WithKube(kubecli.Runner{}), compose.WithGitOps(gitopscli.Runner{})))
}
