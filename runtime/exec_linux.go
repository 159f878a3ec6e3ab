package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/moby/sys/capability"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
)

// Exec runs a process in running container id, beside its init: it joins
// the container's namespaces, cgroup and confinement through libcontainer,
// with the container's environment and user unless o overrides them. It
// returns the process's exit code (128+signal when a signal killed it)
// once the process has exited and its output is copied, or 0 at once with
// o.Detach. Cancelling ctx kills the process.
//
// When the runtime has a shim binary of its own (berth-runtime) and o's
// streams are files, a helper process of that binary does the work: the
// container's init is then a re-exec of the small binary rather than of
// the caller's.
func (r *Runtime) Exec(ctx context.Context, id string, o ExecOptions) (int, error) {
	// The process joins the container's cgroups: the grace period that
	// move would wait for runs while it is prepared (see primeAttach).
	primeAttach()
	if r.helperFits(o) {
		return r.execVia(ctx, id, o)
	}
	return r.execHere(ctx, id, o)
}

// execHere is Exec in this process.
func (r *Runtime) execHere(ctx context.Context, id string, o ExecOptions) (int, error) {
	c, err := r.Config(id)
	if err != nil {
		return 0, err
	}
	ctr, pid, err := r.runningContainer(id)
	if err != nil {
		return 0, err
	}
	user, err := resolveUserIn(fmt.Sprintf("/proc/%d/root", pid), first(o.User, c.User))
	if err != nil {
		return 0, fmt.Errorf("exec in %q: %w", id, err)
	}
	ep, err := buildExec(c, o, user)
	if err != nil {
		return 0, err
	}
	p := &libcontainer.Process{
		Args:             ep.Args,
		Env:              ep.Env,
		Cwd:              ep.Cwd,
		UID:              ep.User.UID,
		GID:              ep.User.GID,
		AdditionalGroups: ep.User.AdditionalGIDs,
		LogLevel:         initLogLevel(),
	}
	if o.Privileged {
		p.Capabilities = allCapabilities()
	}
	var pl execIO = noIO{}
	switch {
	case o.Detach:
	case o.Tty:
		pl, err = newTtyIO(p, o)
	default:
		pl, err = newPipeIO(p, o)
	}
	if err != nil {
		return 0, fmt.Errorf("exec in %q: %w", id, err)
	}
	if err := ctr.Run(p); err != nil {
		pl.abort()
		return 0, fmt.Errorf("exec in %q: %w", id, err)
	}
	if o.Detach {
		// Reaped whenever it ends: a zombie would stay in the container's
		// cgroup, and the container could not be destroyed while it lasts.
		go func() { _, _ = p.Wait() }()
		return 0, nil
	}
	if err := pl.started(); err != nil {
		_ = p.Signal(syscall.SIGKILL)
		_, _ = p.Wait()
		pl.abort()
		return 0, fmt.Errorf("exec in %q: %w", id, err)
	}
	stop := forward(ctx, p, o.Signals)
	ps, err := p.Wait() // with a status, the error only repeats a non-zero one
	stop()
	pl.finish()
	if ps == nil {
		return 0, fmt.Errorf("exec in %q: waiting for the process: %w", id, err)
	}
	return exitCode(ps.Sys().(syscall.WaitStatus)), nil
}

// runningContainer loads container id from libcontainer's state and
// returns it with its init's pid, failing unless it runs.
func (r *Runtime) runningContainer(id string) (*libcontainer.Container, int, error) {
	ctr, err := libcontainer.Load(r.paths(id).stateRoot, id)
	if errors.Is(err, libcontainer.ErrNotExist) {
		return nil, 0, fmt.Errorf("container %q: %w", id, ErrNotRunning)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("loading container %q: %w", id, err)
	}
	st, err := ctr.Status()
	if err != nil {
		return nil, 0, fmt.Errorf("container %q: %w", id, err)
	}
	switch st {
	case libcontainer.Running:
	case libcontainer.Paused:
		return nil, 0, fmt.Errorf("container %q: %w", id, ErrPaused)
	default:
		return nil, 0, fmt.Errorf("container %q: %w", id, ErrNotRunning)
	}
	s, err := ctr.State()
	if err != nil {
		return nil, 0, fmt.Errorf("container %q: %w", id, err)
	}
	return ctr, s.InitProcessPid, nil
}

// forward sends the signals of sigs to p, and SIGKILL when ctx ends,
// until the returned stop is called.
func forward(ctx context.Context, p *libcontainer.Process, sigs <-chan os.Signal) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				_ = p.Signal(syscall.SIGKILL)
				return
			case s := <-sigs:
				_ = p.Signal(s)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// allCapabilities is every capability berth itself may hold (its
// bounding set), for a privileged exec.
func allCapabilities() *configs.Capabilities {
	caps, _ := capability.ListSupported()
	var names []string
	for _, c := range caps {
		if held, err := capability.GetBound(c); err == nil && held {
			names = append(names, "CAP_"+strings.ToUpper(c.String()))
		}
	}
	return &configs.Capabilities{Bounding: names, Effective: names, Permitted: names}
}

// first is the first non-empty string of ss.
func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
