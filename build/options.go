package build

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors of the builder, for errors.Is.
var (
	// ErrNoStages reports a Dockerfile without a FROM.
	ErrNoStages = errors.New("the Dockerfile has no FROM instruction")
	// ErrUnsupported reports an instruction, flag or form berth does not
	// build yet.
	ErrUnsupported = errors.New("not supported by berth yet")
	// ErrStepFailed reports a RUN whose command exited non-zero.
	ErrStepFailed = errors.New("step failed")
	// ErrNoSource reports a COPY or ADD source missing from the context.
	ErrNoSource = errors.New("source not found")
	// ErrOutsideContext reports a source path that leaves the context.
	ErrOutsideContext = errors.New("path is outside the build context")
	// ErrNoSecret reports a required build secret that was not given.
	ErrNoSecret = errors.New("build secret not given")
	// ErrNoStage reports a --target or COPY --from naming no stage.
	ErrNoStage = errors.New("no such stage")
)

// Options say what to build.
type Options struct {
	Context          string            // the context directory
	Dockerfile       string            // path of the Dockerfile, relative to Context unless absolute; "" = Context/Dockerfile
	DockerfileInline string            // the Dockerfile's content, instead of a file
	Target           string            // the stage to build; "" = the last one
	Args             map[string]string // build args (--build-arg)
	Tag              string            // the reference the result is tagged with; "" = untagged
	NoCache          bool              // run every step, using no cached result
	Pull             bool              // pull FROM images even when the store has them (--pull); missing ones are always pulled
	Secrets          map[string]string // build secrets by id: host files RUN --mount=type=secret reads (never in a layer or a cache key)
	Progress         func(Event)       // called when a step starts and when it ends; may be nil
	// NamedContexts are BuildKit's named contexts (build --build-context,
	// Compose's additional_contexts): FROM NAME and COPY --from=NAME read
	// them instead of an image of that name. A value is a directory or
	// "docker-image://REF". A stage of the same name wins, as in BuildKit.
	NamedContexts map[string]string
	ShmSize       int64 // bytes of RUN's /dev/shm; 0: 64 MiB
	// Network gives each RUN its network; nil runs every RUN in a
	// network namespace of its own with loopback only.
	Network func(ctx context.Context) (RunNetwork, error)
}

// RunNetwork is the network of one RUN, from Options.Network.
type RunNetwork struct {
	NetNS      string // a network namespace path to join, or "host"
	ResolvConf string // host file bound read-only at /etc/resolv.conf, "" for none
	Hosts      string // host file bound read-only at /etc/hosts, "" for none
	Release    func() // called once the RUN ended; may be nil
}

// Event reports the progress of one step.
type Event struct {
	Step        int    // 1-based number of the step among all steps run
	Stage       string // the stage's name, or its index as text
	Instruction string // the instruction as written, variables expanded where berth expands them
	Done        bool   // false when the step starts or prints Line, true when it ended (well or not)
	Line        string // with !Done: one line a RUN printed, as it prints it ("" in the start event)
	Cached      bool   // with Done: the step's result came from the cache
	Duration    time.Duration
	Output      []string // with Done: the lines a RUN printed (stdout and stderr)
}
