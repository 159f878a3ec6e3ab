package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
)

// withShape sets up the test's shims to go idle ("idle"), to be started
// by the starter, supervised by berth-idle from birth ("starter"), or
// never to go idle (any other shape); it returns berth-idle's path.
func withShape(t *testing.T, shape string) string {
	t.Helper()
	switch shape {
	case "starter":
		return withStarter(t)
	case "idle":
		return withIdle(t)
	}
	bin := withIdle(t)
	t.Setenv(idleEnv, "off")
	return bin
}

// eventLines are evs as the test shims' event hook writes them.
func eventLines(evs []Event) []string {
	var lines []string
	for _, ev := range evs {
		line := ev.Action
		for _, k := range slices.Sorted(maps.Keys(ev.Attrs)) {
			if k != "execDuration" {
				line += " " + k + "=" + ev.Attrs[k]
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// dropped are the events of a stop with no grace of a container that
// ignores its stop signal, as the shim records them.
var dropped = []string{"kill signal=15", "kill signal=9", "die exitCode=137", "stop"}

// An idle shim serves a drop itself, without waking the Go shim: it
// kills and reaps the init, answers with the exit code and the cgroup
// paths it leaves to be destroyed (the Go shim destroys them itself and
// gives none), records nothing and exits. Remove then leaves nothing.
func TestDropIdleShim(t *testing.T) {
	bin := withIdle(t)
	e := newTestEnv(t)
	ctx := context.Background()
	c := e.config("exec sleep 1000")
	e.start(t, c)
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	shim := parentOf(t, st.Pid)
	waitExe(t, shim, bin, true)
	resp, err := callShim(ctx, e.rt.paths(c.ID).sock, shimRequest{Op: "drop"})
	if err != nil {
		t.Fatal(err)
	}
	if d := resp.Dropped; d == nil || d.Signal != 15 || d.ExitCode != 137 || len(d.Lean) == 0 {
		t.Fatalf("answer to a drop from an idle shim: %+v, want signal 15, exit 137 and the cgroup paths", d)
	}
	if exe := exeOf(shim); exe != bin && exe != "" {
		t.Errorf("the drop woke the shim: it runs %q", exe)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", st.Pid)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the init %d is still there after the drop (%v)", st.Pid, err)
	}
	if err := waitUnlocked(ctx, e.rt.paths(c.ID).dir); err != nil {
		t.Fatal(err)
	}
	if got := hookEvents(c.ID); !slices.Equal(got, []string{"start"}) {
		t.Errorf("the shim recorded %q, want only its start", got)
	}
	if got := hookCodes(t, c.ID); got != nil {
		t.Errorf("the shim recorded exits %q, want none", got)
	}
	for _, dir := range resp.Dropped.Lean {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("cgroup %s gone before anyone destroyed the container: %v", dir, err)
		}
	}
	if err := e.rt.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, dir := range resp.Dropped.Lean {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s left after Remove (%v)", dir, err)
		}
	}
}

// Drop returns the events of the stop for its caller to record, whether
// the shim is idle or awake (neither records them), and destroys what an
// idle shim leaves; a paused container is halted as Halt does, its
// events recorded by its shim.
func TestDropEvents(t *testing.T) {
	for _, shape := range []string{"idle", "starter", "awake", "paused"} {
		t.Run(shape, func(t *testing.T) {
			bin := withShape(t, shape)
			e := newTestEnv(t)
			ctx := context.Background()
			c := e.config("exec sleep 1000")
			e.start(t, c)
			e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
			if shape == "idle" || shape == "starter" {
				waitExe(t, shimOf(c.ID), bin, true)
			}
			if shape == "paused" {
				if err := e.rt.Pause(ctx, c.ID); err != nil {
					t.Fatal(err)
				}
			}
			evs, err := e.rt.Drop(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, recorded := eventLines(evs), hookEvents(c.ID)
			wantGot, wantRecorded := dropped, []string{"start"}
			if shape == "paused" {
				wantGot, wantRecorded = nil, append([]string{"start", "pause"}, dropped...)
			}
			if !slices.Equal(got, wantGot) {
				t.Errorf("Drop returned events %q, want %q", got, wantGot)
			}
			if !slices.Equal(recorded, wantRecorded) {
				t.Errorf("the shim recorded %q, want %q", recorded, wantRecorded)
			}
			for _, ev := range evs {
				if ev.At.IsZero() || (ev.Action == "die" && ev.Attrs["execDuration"] == "") {
					t.Errorf("event %+v lacks its time or duration", ev)
				}
			}
			// The exit is recorded as the shim records a stop's, before the
			// removal: a removal cut short leaves a container its user
			// stopped (no boot restarts it).
			if err := waitUnlocked(ctx, e.rt.paths(c.ID).dir); err != nil {
				t.Fatal(err)
			}
			if st, err := e.rt.State(ctx, c.ID); err != nil || st.Status != lifecycle.Exited || st.ExitCode != 137 || !st.Stopped || st.FinishedAt.IsZero() {
				t.Errorf("state after the drop: %+v, %v; want exited 137, stopped", st, err)
			}
			if shape == "idle" || shape == "starter" {
				// Destroyed by Drop, as the Go shim destroys its own.
				if _, err := os.Stat(filepath.Join(e.rt.paths(c.ID).stateRoot, c.ID)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("libcontainer state left after an idle shim's drop (%v)", err)
				}
			}
			if err := e.rt.Remove(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A drop logs the container's output to its end, a partial line too, as
// a stop does, whether the shim is idle or awake: output that never
// pauses 100 ms is never logged before the container ends.
func TestDropLogsTheRest(t *testing.T) {
	for _, shape := range []string{"idle", "starter", "awake"} {
		t.Run(shape, func(t *testing.T) {
			bin := withShape(t, shape)
			e := newTestEnv(t)
			ctx := context.Background()
			sig := t.TempDir()
			c := e.config(`while [ ! -e /sig/out ]; do sleep 0.05; done
echo whole
while :; do printf x; sleep 0.01; done`)
			c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
			e.start(t, c)
			e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
			if shape != "awake" {
				waitExe(t, shimOf(c.ID), bin, true)
			}
			if err := os.WriteFile(filepath.Join(sig, "out"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			e.waitLogFile(t, c.ID, 1)
			time.Sleep(300 * time.Millisecond)
			asked := time.Now()
			resp, err := callShim(ctx, e.rt.paths(c.ID).sock, shimRequest{Op: "drop"})
			if err != nil {
				t.Fatal(err)
			}
			if d := resp.Dropped; d == nil || (shape != "awake") != (len(d.Lean) > 0) {
				t.Fatalf("answer to the drop: %+v; want one from the %s shim", d, shape)
			}
			if err := waitUnlocked(ctx, e.rt.paths(c.ID).dir); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(e.rt.LogPath(c.ID))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			var last jsonLogEntry
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
				t.Fatalf("last log entry %q: %v", lines[len(lines)-1], err)
			}
			at, err := time.Parse(time.RFC3339Nano, last.Time)
			if err != nil || at.Before(asked) || strings.Trim(last.Log, "x") != "" || last.Log == "" {
				t.Errorf("last log entry %+v, want the output written up to the drop, logged after it was asked (%s)", last, asked.Format(time.RFC3339Nano))
			}
			if err := e.rt.Remove(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}
