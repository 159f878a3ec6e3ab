package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/runtime"
)

// ExecOptions describe a process to run in a running container.
type ExecOptions = runtime.ExecOptions

// WinSize is the size of a terminal in characters.
type WinSize = runtime.WinSize

// Exec runs a process in running container name, as `docker exec` does,
// and returns its exit code (128+signal when a signal killed it).
// Cancelling ctx kills the process; to interrupt it more gently, send
// signals through o.Signals.
func (e *Engine) Exec(ctx context.Context, name string, o ExecOptions) (int, error) {
	code, err := e.runtime.Exec(ctx, name, o)
	if errors.Is(err, runtime.ErrPaused) {
		return 0, fmt.Errorf("container %s is paused, unpause the container before exec", name)
	}
	return code, err
}

// RunningContainer is the container of a project's service that exec (and
// attach) act on, chosen as Docker Compose does: replica index when index
// is above 0, else the lowest-numbered running one (one-off containers
// of `berth run` included, after the service's own).
func (e *Engine) RunningContainer(ctx context.Context, project, service string, index int) (ContainerView, error) {
	views, err := e.Containers(ctx, project, []string{service}, true)
	if err != nil {
		return ContainerView{}, err
	}
	return pickRunning(views, service, index)
}

// pickRunning chooses among a service's containers, with Docker Compose's
// messages when none fits.
func pickRunning(views []ContainerView, service string, index int) (ContainerView, error) {
	var up []ContainerView
	for _, v := range views {
		if v.Service == service && live(v.State) && (index <= 0 || v.Number == index) {
			up = append(up, v)
		}
	}
	if len(up) == 0 {
		if index > 0 {
			return ContainerView{}, fmt.Errorf("service %q is not running container #%d", service, index)
		}
		return ContainerView{}, fmt.Errorf("service %q is not running", service)
	}
	// The lowest number first; at one number, a service's own container
	// before a one-off of `berth run`.
	return slices.MinFunc(up, func(a, b ContainerView) int {
		return cmp.Or(cmp.Compare(a.Number, b.Number), cmp.Compare(oneOffRank(a), oneOffRank(b)))
	}), nil
}

func oneOffRank(v ContainerView) int {
	if v.Labels[labelOneOff] == "True" {
		return 1
	}
	return 0
}

// live reports whether a container has processes a command can join: it
// runs (or is frozen, which exec then reports as such).
func live(s lifecycle.Status) bool {
	switch s {
	case lifecycle.Exited, lifecycle.Created, lifecycle.Missing, lifecycle.Restarting:
		return false
	}
	return true
}
