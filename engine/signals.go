package engine

import (
	"context"
	"syscall"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/runtime"
)

// ParseSignal reads a signal as docker kill accepts it ("SIGKILL",
// "KILL", "kill", "9") into its number and name.
func ParseSignal(s string) (lifecycle.Signal, error) {
	sig, err := runtime.ParseSignal(s)
	if err != nil {
		return lifecycle.Signal{}, err
	}
	return lifecycle.Signal{Number: int(sig), Name: runtime.SignalName(sig)}, nil
}

// Kill sends sig to container name's init (see runtime.Runtime.Kill for
// when it counts as an explicit stop).
func (e *Engine) Kill(ctx context.Context, name string, sig lifecycle.Signal) error {
	return e.runtime.Kill(ctx, name, syscall.Signal(sig.Number))
}

// Pause freezes container name's processes.
func (e *Engine) Pause(ctx context.Context, name string) error {
	return e.runtime.Pause(ctx, name)
}

// Unpause thaws container name's processes.
func (e *Engine) Unpause(ctx context.Context, name string) error {
	return e.runtime.Resume(ctx, name)
}
