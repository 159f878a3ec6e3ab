package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/internal/seccache"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// procIO is what a container's init gets as its standard streams: files
// (nil: /dev/null), or with a console socket, a terminal it makes.
type procIO struct {
	Stdin, Stdout, Stderr *os.File
	ConsoleSocket         *os.File
	Size                  WinSize // the terminal's size at the start
}

// runContainer creates the libcontainer container of spec under stateRoot
// and runs its init with the streams of pio. With hold the init is made
// (namespaces, cgroups, mounts, seccomp) and waits on libcontainer's exec
// fifo, the process not run until the container's Exec (runc create, and
// later runc start); without, it runs at once (runc run). On error nothing
// of the container is left. prep, if not nil, may take work off the
// init's configuration before the init starts (see prepareDevTree); the
// function it returns is called once the init has started or failed.
func runContainer(stateRoot, seccompCache, id string, spec *specs.Spec, pio procIO, hold bool, prep func(*configs.Config) func()) (*libcontainer.Container, *libcontainer.Process, error) {
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: id, Spec: spec})
	if err != nil {
		return nil, nil, fmt.Errorf("converting spec of %q: %w", id, err)
	}
	if prep != nil {
		defer prep(cfg)()
	}
	// The filter compiled for an earlier container with the same one, if
	// any (see package seccache). Not with hooks: their processes, which
	// libcontainer starts, would inherit the offer too. A cache that
	// cannot offer leaves the init to compile the filter, as without it.
	var offer *seccache.Offer
	if len(cfg.Hooks) == 0 {
		if offer, err = seccache.NewOffer(seccompCache, cfg.Seccomp); err != nil {
			fmt.Fprintf(os.Stderr, "shim %s: starting without the seccomp cache: %v\n", id, err)
			offer = nil
		}
	}
	end := phase.Start(id, "shim.run.lc-create")
	ctr, err := libcontainer.Create(stateRoot, id, cfg)
	end()
	if err != nil {
		offer.Close()
		return nil, nil, fmt.Errorf("creating container %q: %w", id, err)
	}
	u := spec.Process.User
	proc := &libcontainer.Process{
		Args:             spec.Process.Args,
		Env:              spec.Process.Env,
		UID:              int(u.UID),
		GID:              int(u.GID),
		AdditionalGroups: toInts(u.AdditionalGids),
		Cwd:              spec.Process.Cwd,
		Init:             true,
		LogLevel:         initLogLevel(),
	}
	if offer != nil {
		proc.ExtraFiles = []*os.File{offer.File()}
	}
	if proc.Rlimits, err = processRlimits(spec.Process.Rlimits); err != nil {
		offer.Close()
		_ = ctr.Destroy()
		return nil, nil, fmt.Errorf("container %q: %w", id, err)
	}
	// A typed nil *os.File in the interface would not mean /dev/null.
	if pio.Stdin != nil {
		proc.Stdin = pio.Stdin
	}
	if pio.Stdout != nil {
		proc.Stdout = pio.Stdout
	}
	if pio.Stderr != nil {
		proc.Stderr = pio.Stderr
	}
	if pio.ConsoleSocket != nil {
		proc.ConsoleSocket, proc.ConsoleWidth, proc.ConsoleHeight = pio.ConsoleSocket, pio.Size.Cols, pio.Size.Rows
	}
	// With an offer, the init's result is collected, and the offer's
	// socket closed, before the container's process runs (runc create,
	// collect, runc start): had the init not taken the offer, its
	// descriptor would reach that process, which must find no shim
	// listening to a result of its own.
	if hold || offer != nil {
		end = phase.Start(id, "shim.run.lc-start")
		err = ctr.Start(proc)
	} else {
		end = phase.Start(id, "shim.run.lc-run")
		err = ctr.Run(proc)
	}
	end()
	if err == nil {
		offer.Collect()
		if !hold && offer != nil {
			err = ctr.Exec()
		}
	}
	if err != nil {
		offer.Close()
		_ = ctr.Destroy()
		return nil, nil, fmt.Errorf("starting container %q: %w", id, err)
	}
	return ctr, proc, nil
}

// initLogLevel is the level a process libcontainer starts in a container
// logs at, as runc passes its own: this process's (logrus's; Info unless
// raised). Without it the init's C part (nsexec) logs at debug, about 20
// lines a start that the init formats and writes and that libcontainer
// here reads and decodes, only to drop them below its own level.
func initLogLevel() string {
	return strconv.Itoa(int(logrus.GetLevel()))
}

func toInts(in []uint32) []int {
	out := make([]int, len(in))
	for i, v := range in {
		out[i] = int(v)
	}
	return out
}

// orphan is a container whose shim is gone, seen through libcontainer's
// state; nil when libcontainer has no state for it.
type orphan struct {
	ctr *libcontainer.Container
}

// loadOrphan loads the libcontainer state of id; nil when there is none.
func loadOrphan(stateRoot, id string) (*orphan, error) {
	ctr, err := libcontainer.Load(stateRoot, id)
	if errors.Is(err, libcontainer.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading container %q: %w", id, err)
	}
	return &orphan{ctr: ctr}, nil
}

// running reports whether the orphan's init is alive, and its pid and start.
func (o *orphan) running() (bool, int, time.Time) {
	st, err := o.ctr.Status()
	if err != nil || st == libcontainer.Stopped {
		return false, 0, time.Time{}
	}
	s, err := o.ctr.State()
	if err != nil {
		return false, 0, time.Time{}
	}
	return true, s.InitProcessPid, s.Created
}

// paused reports whether the orphan's processes are frozen.
func (o *orphan) paused() bool {
	st, err := o.ctr.Status()
	return err == nil && st == libcontainer.Paused
}

// orphanPoll is how often a container without shim is checked for its end.
const orphanPoll = 10 * time.Millisecond

// stop sends sig, then SIGKILL after timeout, waits for the init to be
// gone, and destroys the container (cgroups and state).
func (o *orphan) stop(ctx context.Context, sig syscall.Signal, timeout time.Duration) error {
	if run, _, _ := o.running(); run {
		if err := o.ctr.Signal(sig); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
			return fmt.Errorf("signalling container %q: %w", o.ctr.ID(), err)
		}
		if o.paused() {
			_ = o.ctr.Resume() // the signal takes effect once thawed
		}
		if !o.waitStopped(ctx, timeout) && sig != syscall.SIGKILL {
			if err := o.ctr.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
				return fmt.Errorf("killing container %q: %w", o.ctr.ID(), err)
			}
		}
		for !o.waitStopped(ctx, time.Second) {
			if ctx.Err() != nil {
				return fmt.Errorf("waiting for container %q to exit: %w", o.ctr.ID(), ctx.Err())
			}
		}
	}
	if err := o.ctr.Destroy(); err != nil {
		return fmt.Errorf("destroying container %q: %w", o.ctr.ID(), err)
	}
	return nil
}

// waitStopped polls until the init is gone, for at most d.
func (o *orphan) waitStopped(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if run, _, _ := o.running(); !run {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(orphanPoll)
	}
}

// removeStaleState is the answer of a caller that found no libcontainer
// state for id (or failed, err): a state directory without a state file,
// left by a shim that died between create and start, goes.
func removeStaleState(stateRoot, id string, err error) error {
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(stateRoot, id)); err != nil {
		return fmt.Errorf("removing stale state of %q: %w", id, err)
	}
	return nil
}
