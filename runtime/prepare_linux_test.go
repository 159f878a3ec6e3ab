package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
)

// markerConfig is a container that creates out/NAME (a bind of a host
// directory) as its first act, then sleeps: whether its process ran
// shows on the host, whatever its shim does with its output.
func (e *testEnv) markerConfig(t *testing.T, out string) Config {
	c := e.config("touch /out/ran; echo ran; exec sleep 1000")
	c.Mounts = []Mount{{Type: "bind", Source: out, Target: "/out"}}
	return c
}

func (e *testEnv) prepare(t *testing.T, c Config) {
	t.Helper()
	if err := e.rt.Create(c); err != nil {
		t.Fatal(err)
	}
	prepared, err := e.rt.Prepare(context.Background(), c)
	if err == nil {
		err = prepared()
	}
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
}

// holder names what holds a prepared container in eachHolder's runs.
type holder struct {
	starter bool   // the starter, not a shim of its own
	idle    string // berth-idle, with the starter
}

// eachHolder runs f twice, with a fresh environment each: the preparation
// held by a shim of its own (BERTH_STARTER=0), then by the starter.
func eachHolder(t *testing.T, f func(t *testing.T, e *testEnv, h holder)) {
	t.Run("shim", func(t *testing.T) {
		t.Setenv(starterEnv, "0")
		f(t, newTestEnv(t), holder{})
	})
	t.Run("starter", func(t *testing.T) {
		idle := withStarter(t)
		f(t, newTestEnv(t), holder{starter: true, idle: idle})
	})
}

// check fails t unless container id, prepared, is held by h: by its own
// shim, or by a running starter with no shim of its own.
func (h holder) check(t *testing.T, root, id string) {
	t.Helper()
	switch shim := shimOf(id); {
	case !h.starter && shim == 0:
		t.Error("no shim of its own holds the prepared container")
	case h.starter && shim != 0:
		t.Errorf("shim %d (%s) holds the prepared container; want the starter", shim, cmdline(shim))
	case h.starter && !starterRuns(root):
		t.Error("no starter runs to hold the prepared container")
	}
}

// checkStarted fails t unless container id, started from its
// preparation, is supervised as h's starts are: its init the child of the
// starter (or of the starter's reaper, once a starter left idle has
// ended), its supervisor berth-idle from birth; or its init the child of
// its own shim.
func (h holder) checkStarted(t *testing.T, e *testEnv, id string) {
	t.Helper()
	parent, sup := initParent(t, e, id), shimOf(id)
	switch {
	case sup == 0:
		t.Error("no supervisor after the start")
	case !h.starter && parent != sup:
		t.Errorf("the init's parent is %d (%s), want its shim %d", parent, cmdline(parent), sup)
	case h.starter && parent != starterPid(e.root) && !strings.Contains(cmdline(parent), " --reap "):
		t.Errorf("the init's parent is %d (%s), want the starter or its reaper", parent, cmdline(parent))
	case h.starter && exeOf(sup) != h.idle:
		t.Errorf("the supervisor runs %q, want berth-idle from birth", exeOf(sup))
	}
}

func ran(out string) bool {
	_, err := os.Stat(filepath.Join(out, "ran"))
	return err == nil
}

// A prepared container is created, its shim or the starter holding its
// init, and its process does not run until Restart starts it, recording
// its start once; a second start is refused.
func TestPrepareHoldsUntilStart(t *testing.T) { eachHolder(t, testPrepareHoldsUntilStart) }

func testPrepareHoldsUntilStart(t *testing.T, e *testEnv, h holder) {
	out := t.TempDir()
	c := e.markerConfig(t, out)
	e.prepare(t, c)
	ctx := context.Background()
	st, err := e.rt.State(ctx, c.ID)
	if err != nil || st.Status != lifecycle.Created || !st.Shim {
		t.Fatalf("prepared: %+v, %v; want created with its shim", st, err)
	}
	h.check(t, e.root, c.ID)
	if err := e.rt.Kill(ctx, c.ID, 9); !errors.Is(err, ErrNotRunning) {
		t.Errorf("kill of a prepared container: %v, want ErrNotRunning", err)
	}
	time.Sleep(300 * time.Millisecond) // time enough for a process that ran to show
	if ran(out) {
		t.Fatal("the process of a prepared container ran before its start")
	}
	if err := e.rt.Restart(ctx, c.ID); err != nil {
		t.Fatalf("starting the prepared container: %v", err)
	}
	if !ran(out) { // the start returns once the process is exec'd; its first command follows
		e.waitFor(t, c.ID, "ran", func(State) bool { return ran(out) })
	}
	st = e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	if !st.Shim || st.Pid == 0 || st.StartedAt.IsZero() {
		t.Errorf("started: %+v, want running under its shim with a pid and a start time", st)
	}
	h.checkStarted(t, e, c.ID)
	if got := hookEvents(c.ID); !slices.Equal(got, []string{"start"}) {
		t.Errorf("events %q, want one start", got)
	}
	e.waitLog(t, c.ID, 1)
	if got := e.logLines(t, c.ID, LogOptions{Tail: -1}); !slices.Equal(got, []string{"stdout: ran"}) {
		t.Errorf("log = %q, want the process's one line", got)
	}
	if err := e.rt.Restart(ctx, c.ID); !errors.Is(err, ErrRunning) {
		t.Errorf("second start: %v, want ErrRunning", err)
	}
}

// Release, Stop and Remove undo a preparation: the held init is killed,
// its holder gone (a shim) or done with it (the starter), the process
// never ran; a released container starts afresh.
func TestPrepareUndone(t *testing.T) { eachHolder(t, testPrepareUndone) }

func testPrepareUndone(t *testing.T, e *testEnv, h holder) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		undo func(id string) error
		want lifecycle.Status
	}{
		{"release", func(id string) error { return e.rt.Release(ctx, id) }, lifecycle.Created},
		{"stop", func(id string) error { return e.rt.Stop(ctx, id, time.Second) }, lifecycle.Created},
		{"remove", func(id string) error { return e.rt.Remove(ctx, id) }, lifecycle.Missing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			c := e.markerConfig(t, out)
			e.prepare(t, c)
			h.check(t, e.root, c.ID)
			if err := tc.undo(c.ID); err != nil {
				t.Fatal(err)
			}
			if err := e.rt.waitShim(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			st, err := e.rt.State(ctx, c.ID)
			if err != nil || st.Status != tc.want || st.Shim {
				t.Fatalf("after %s: %+v, %v; want %s without shim", tc.name, st, err, tc.want)
			}
			if o, err := loadOrphan(e.rt.paths(c.ID).stateRoot, c.ID); o != nil || err != nil {
				t.Errorf("after %s: libcontainer state left (%v)", tc.name, err)
			}
			if ran(out) {
				t.Errorf("the process ran though the container was never started")
			}
			if tc.want != lifecycle.Created {
				return
			}
			if err := e.rt.Restart(ctx, c.ID); err != nil {
				t.Fatalf("start after %s: %v", tc.name, err)
			}
			e.waitFor(t, c.ID, "ran", func(State) bool { return ran(out) })
		})
	}
	// Release leaves a started container alone.
	out := t.TempDir()
	c := e.markerConfig(t, out)
	e.prepare(t, c)
	if err := e.rt.Restart(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Release(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.rt.State(ctx, c.ID); st.Status != lifecycle.Running || !st.Shim {
		t.Errorf("released after its start: %+v, want running", st)
	}
}

// A container prepared by the process that created it (Prepare)
// starts from its holder, which has read its configuration, without the
// start reading it again: with config.json made unreadable once it is
// prepared, the start still succeeds and the process runs.
func TestPreparedStartReadsNoConfig(t *testing.T) { eachHolder(t, testPreparedStartReadsNoConfig) }

func testPreparedStartReadsNoConfig(t *testing.T, e *testEnv, _ holder) {
	out := t.TempDir()
	c := e.markerConfig(t, out)
	if err := e.rt.Create(c); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prepared, err := e.rt.Prepare(ctx, c)
	if err == nil {
		err = prepared()
	}
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	cfg := e.rt.paths(c.ID).config
	if err := os.WriteFile(cfg, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Restart(ctx, c.ID); err != nil {
		t.Fatalf("starting the prepared container: %v", err)
	}
	e.waitFor(t, c.ID, "ran", func(State) bool { return ran(out) })
	if err := writeJSONAtomic(cfg, c); err != nil { // whole again, for the clean-up
		t.Fatal(err)
	}
	if _, err := e.rt.Config(c.ID); err != nil {
		t.Fatal(err)
	}
}
