package runtime

import (
	"context"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/lifecycle"
)

// Event is an event of a container that its caller records on behalf of
// its shim (see Drop), as the shim's EventHook would have.
type Event struct {
	Action string
	Attrs  map[string]string
	At     time.Time
}

// Drop is Halt with no grace (a zero timeout) for a container removed
// next, whose shim records nothing: it sends the stop signal and
// SIGKILL, waits for the exit and answers with the exit code, and the
// caller records the events the shim would have (kill with the stop
// signal, kill with SIGKILL, die, stop), which Drop returns, in one go
// for all of them instead of one store transaction each from the shim.
// Drop writes the exit record the shim would have (stopped, the exit
// code), so that a removal cut short leaves a container a user downed,
// which no boot restarts. An idle shim
// (berth-idle) serves it without waking the Go shim, and exits: the
// container's destruction is then Remove's, as after a shim's death.
// A container that is not running, or has no shim, or whose shim knows
// no drop (an earlier build's), is halted as Halt does: no events return.
func (r *Runtime) Drop(ctx context.Context, id string) ([]Event, error) {
	p := r.paths(id)
	st, ok := State{}, false
	if shimAlive(p.dir) {
		st, ok = readPublished(p.state)
	}
	// Running only: a paused container's kill waits for its thaw, and a
	// restarting or held one is the Go shim's to end.
	if !ok || st.Status != lifecycle.Running {
		return nil, r.Halt(ctx, id, 0)
	}
	killed := time.Now()
	end := phase.Start(id, "drop.call")
	resp, err := callShim(ctx, p.sock, shimRequest{Op: "drop"})
	end()
	if err != nil {
		// A shim of an earlier build, which knows no drop, or one that
		// ended meanwhile: Halt finds out.
		return nil, r.Halt(ctx, id, 0)
	}
	if resp.Dropped == nil {
		return nil, nil // it was not running: its exit is recorded
	}
	at := time.Now()
	// The shim's exit record, written here before the removal goes on: a
	// removal that does not finish (the CLI killed, the store failing)
	// leaves a container stopped by its user. Should the write fail, the
	// removal that follows goes on: the container's directory goes with it.
	rec := exitRecord{Code: resp.Dropped.ExitCode, StartedAt: st.StartedAt, FinishedAt: at, Restarts: st.Restarts, OOMKilled: st.OOMKilled, Stopped: true}
	end = phase.Start(id, "drop.exit.file")
	_ = writeJSONAtomic(p.exit, rec)
	end()
	if lean := resp.Dropped.Lean; lean != nil {
		// An idle shim's: its container is destroyed here, as the Go
		// shim would have, without loading libcontainer's state. Should
		// it fail, Remove's destruction of what is left (as after a
		// shim's death) finds out.
		end = phase.Start(id, "drop.destroy")
		_, _ = destroyLean(p.stateRoot, id, lean)
		end()
	}
	return droppedEvents(*resp.Dropped, st.StartedAt, killed, at), nil
}

// droppedEvents are the events of a drop an idle shim answered: those the
// Go shim records for a stop with no grace.
func droppedEvents(d dropAnswer, started, killed, exited time.Time) []Event {
	var evs []Event
	if sig := syscall.Signal(d.Signal); sig != syscall.SIGKILL {
		evs = append(evs, Event{Action: "kill", Attrs: killAttributes(sig), At: killed})
	}
	evs = append(evs, Event{Action: "kill", Attrs: killAttributes(syscall.SIGKILL), At: killed})
	st := State{StartedAt: started, FinishedAt: exited}
	return append(evs, Event{Action: "die", Attrs: dieAttributes(d.ExitCode, st), At: exited},
		Event{Action: "stop", At: exited})
}
