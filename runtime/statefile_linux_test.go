package runtime

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/berth-dev/berth/lifecycle"
)

// A shim's published state is what it answers on its socket, follows an
// exit it sees, is replaced by the next run's shim (which a start right
// after the exit waits for the old shim to make room for) and goes with
// the container.
func TestStateIsPublished(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	c := e.config("exec sleep 1000")
	e.start(t, c)
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	p := e.rt.paths(c.ID)
	pub, ok := readPublished(p.state)
	if !ok {
		t.Fatalf("a running container's shim published no state at %s", p.state)
	}
	resp, err := callShim(ctx, p.sock, shimRequest{Op: "state"})
	if err != nil {
		t.Fatal(err)
	}
	if pub != *resp.State || st != pub {
		t.Fatalf("published %+v, shim answers %+v, State %+v: want the same", pub, *resp.State, st)
	}
	if err := syscall.Kill(st.Pid, syscall.SIGKILL); err != nil { // behind the shim's back
		t.Fatal(err)
	}
	// Started again at once: its shim may still be finishing (recording
	// the exit, unmounting), which the start waits for.
	if got := e.waitFor(t, c.ID, "exited", func(s State) bool { return s.Status != lifecycle.Running }); got.ExitCode != 137 || got.Status != lifecycle.Exited {
		t.Fatalf("after its init was killed: %+v, want exited 137", got)
	}
	if _, ok := readPublished(p.state); !ok {
		t.Fatal("the exited run's state file is gone: the check below would prove nothing")
	}
	if err := e.rt.Restart(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := e.rt.State(ctx, c.ID); err != nil || got.Status == lifecycle.Exited {
		t.Fatalf("right after the restart: %+v, %v: the previous shim's state", got, err)
	}
	again := e.waitFor(t, c.ID, "running again", func(s State) bool { return s.Status == lifecycle.Running })
	if again.Pid == st.Pid || again.ExitCode != 0 {
		t.Fatalf("the next run reads as %+v: the previous shim's state", again)
	}
	if err := e.rt.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.state); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the state file outlives the container: %v", err)
	}
}
