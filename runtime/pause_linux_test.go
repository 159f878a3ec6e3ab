package runtime

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
)

// Pause freezes a container (its health checks wait, keeping their
// status), refuses a second pause, Resume thaws it; a paused container's
// stop signal reaches it once thawed, so it exits on its own terms.
func TestPauseResume(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	c := e.config("trap 'exit 0' TERM; while true; do sleep 0.1; done")
	c.Health = &Health{Test: []string{"true"}, Interval: 50 * time.Millisecond}
	e.start(t, c)
	st := e.waitFor(t, c.ID, "healthy", func(s State) bool { return s.Health == HealthHealthy })
	if err := e.rt.Pause(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.rt.State(ctx, c.ID); got.Status != lifecycle.Paused || got.Health != HealthHealthy {
		t.Fatalf("after Pause: %+v", got)
	}
	if pids, err := e.rt.Processes(c.ID); err != nil || !slices.Contains(pids, st.Pid) {
		t.Fatalf("Processes of a paused container = %v, %v; want its init %d among them", pids, err, st.Pid)
	}
	if err := e.rt.Pause(ctx, c.ID); !errors.Is(err, ErrPaused) {
		t.Fatalf("a second Pause: %v, want ErrPaused", err)
	}
	if err := e.rt.Resume(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Resume(ctx, c.ID); !errors.Is(err, ErrNotPaused) {
		t.Fatalf("Resume of a running container: %v, want ErrNotPaused", err)
	}
	e.waitFor(t, c.ID, "running and checked again", func(s State) bool { return s.Status == lifecycle.Running && s.Health == HealthHealthy })
	if err := e.rt.Pause(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Stop(ctx, c.ID, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := e.waitExited(t, c.ID); got.ExitCode != 0 {
		t.Fatalf("a paused container stopped with code %d, want 0: its TERM trap ran once thawed", got.ExitCode)
	}
	if err := e.rt.Pause(ctx, c.ID); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Pause of a stopped container: %v, want ErrNotRunning", err)
	}
}

// A kill with a signal that is not the container's stop signal leaves the
// restart policy to act, as Docker's; SIGKILL ends it for good.
func TestKillAndRestartPolicy(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	c := e.config("trap 'exit 5' USR1; echo trapped; while true; do sleep 0.1; done")
	c.Restart, c.StopSignal = "always", "SIGTERM"
	e.start(t, c)
	// Once the trap is set: an init ignores a signal it has no handler for.
	e.waitLog(t, c.ID, 1)
	if err := e.rt.Kill(ctx, c.ID, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, c.ID, "restarted", func(s State) bool { return s.Restarts == 1 && s.Status == lifecycle.Running })
	if err := e.rt.Kill(ctx, c.ID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.rt.State(ctx, c.ID); got.Status != lifecycle.Exited || got.ExitCode != 137 || got.Shim {
		t.Fatalf("after SIGKILL (Kill returns once it is down): %+v", got)
	}
}
