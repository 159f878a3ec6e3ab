package runtime

import (
	"os"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/seccache"

	// The device cgroup controller must be linked in for libcontainer to
	// apply the device allow-list.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"

	// nsenter's C constructor runs before the Go runtime in "init"
	// re-execs and joins or creates the container's namespaces.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// ShimOption configures the shim side of Reexec.
type ShimOption func(*shimOptions)

type shimOptions struct {
	exitHook  func(root, id string, code int, at time.Time)
	eventHook EventHook
}

// WithExitHook makes the shim call fn after each exit of its container,
// with the state root the shim serves, the exit code (128+signal when
// killed) and the time. It runs in the shim process, after exit.json is
// written.
func WithExitHook(fn func(root, id string, code int, at time.Time)) ShimOption {
	return func(o *shimOptions) { o.exitHook = fn }
}

// WithEventHook makes the shim call fn for each event of its container
// (see EventHook).
func WithEventHook(fn EventHook) ShimOption {
	return func(o *shimOptions) { o.eventHook = fn }
}

// ReexecRoles are the first arguments Reexec takes for its own (see
// there), and the only ones: a role missing here is never reached.
func ReexecRoles() []string { return []string{"init", "shim", starterArg, "execproc"} }

// Reexec handles the hidden re-exec entry points of the binary: "init"
// (libcontainer's container init), "shim" (a container's supervisor),
// "starter" (the process that starts the containers of a Runtime) and
// "execproc" (the helper of an exec).
// When os.Args[1] is one of them it never returns; otherwise it returns at
// once. Call it first in main and in every TestMain that runs containers.
func Reexec(opts ...ShimOption) {
	if len(os.Args) < 2 || !slices.Contains(ReexecRoles(), os.Args[1]) {
		return // a command: the roles are ReexecRoles' only
	}
	switch os.Args[1] {
	case "init":
		// libcontainer's init reaches 16 kB of stack.
		growStack(len(os.Args))
		seccache.Arm()      // before pivot_root: the offer its shim left, if any
		libcontainer.Init() // never returns
	case "shim":
		o := shimOpts(opts)
		if os.Getenv(handoffEnv) != "" {
			os.Exit(resumeShim(os.Args[2:], o))
		}
		os.Exit(runShim(os.Args[2:], o))
	case starterArg:
		os.Exit(runStarter(os.Args[2:], shimOpts(opts)))
	case "execproc":
		os.Exit(runExecHelper())
	}
}

// shimOpts applies opts.
func shimOpts(opts []ShimOption) shimOptions {
	var o shimOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
