package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/lifecycle"
)

// withIdle builds berth-idle and lets the test's shims go idle after a
// short quiet.
func withIdle(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "berth-idle")
	out, err := testutil.BuildIdle("../cmd/berth-idle/main.c", bin)
	if err != nil {
		t.Fatalf("building berth-idle: %v\n%s", err, out)
	}
	t.Setenv(idleBinEnv, bin)
	t.Setenv(idleEnv, "300ms")
	// The shim's own start (see withStarter for the starter's): these
	// tests find the shim as the init's parent.
	t.Setenv(starterEnv, "0")
	return bin
}

// exeOf is the program pid runs.
func exeOf(pid int) string {
	p, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return p
}

// waitExe waits, without a word to the shim (which would wake it), until
// pid runs the program exe (want) or another one.
func waitExe(t *testing.T, pid int, exe string, want bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for (exeOf(pid) == exe) != want {
		if time.Now().After(deadline) {
			t.Fatalf("shim %d runs %q; want berth-idle: %v", pid, exeOf(pid), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLogFile waits until the log holds n entries, reading the file only.
func (e *testEnv) waitLogFile(t *testing.T, id string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(e.rt.LogPath(id))
		lines := strings.SplitAfter(string(data), "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("log has %d entries, want %d: %q", len(lines), n, data)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestShimIdle(t *testing.T) {
	bin := withIdle(t)
	e := newTestEnv(t)
	sig := t.TempDir()
	// Text that encoding/json escapes every way it does: HTML characters,
	// controls, a quote and a backslash, a line separator, a byte that is
	// no UTF-8, a truncated rune; a partial line that waits for its end
	// longer than a partial line waits (100 ms), a long line cut at 16 KiB.
	c := e.config(`echo start
while [ ! -e /sig/out ]; do sleep 0.05; done
printf '<a&b>\t"q" \\ \001\037 caf\303\251 \342\200\250 \377 \342\202\n'
printf 'part'; sleep 0.5; printf 'ial\n'
head -c 20000 /dev/zero | tr '\0' x; echo
sleep 0.2; echo err >&2
while [ ! -e /sig/exit ]; do sleep 0.05; done
exit 7`)
	c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
	e.start(t, c)
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	shim := parentOf(t, st.Pid)
	waitExe(t, shim, bin, true)
	// Right after the exec, its arguments may not be set up yet.
	for i := 0; i < 100 && cmdline(shim) == ""; i++ {
		time.Sleep(time.Millisecond)
	}
	if !strings.HasPrefix(cmdline(shim), "berth shim "+c.ID) {
		t.Errorf("idle shim's command line is %q, want the shim's", cmdline(shim))
	}
	if parentOf(t, st.Pid) != shim {
		t.Fatal("the container's init is no longer the idle shim's child")
	}

	// Output while idle goes to the log as the Go shim writes it, in order.
	if err := os.WriteFile(filepath.Join(sig, "out"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := e.waitLogFile(t, c.ID, 7)
	time.Sleep(200 * time.Millisecond) // no more entries come
	lines = e.waitLogFile(t, c.ID, 7)
	if exeOf(shim) != bin {
		t.Errorf("output woke the shim: it runs %q", exeOf(shim))
	}
	long := strings.Repeat("x", 20000)
	// As the container wrote them: the Go shim's encoder (appendLogEntry,
	// as encoding/json v1) turns the bytes that are no UTF-8 into \ufffd,
	// as berth-idle must.
	want := []jsonLogEntry{{"start\n", "stdout", ""}, {"<a&b>\t\"q\" \\ \x01\x1f caf\u00e9 \u2028 \xff \xe2\x82\n", "stdout", ""},
		{"part", "stdout", ""}, {"ial\n", "stdout", ""}, {long[:logMaxLine], "stdout", ""}, {long[logMaxLine:] + "\n", "stdout", ""}, {"err\n", "stderr", ""}}
	for i, l := range lines {
		var ent jsonLogEntry
		if err := json.Unmarshal([]byte(l), &ent); err != nil {
			t.Fatalf("log entry %q: %v", l, err)
		}
		at, err := time.Parse(time.RFC3339Nano, ent.Time)
		if err != nil || at.UTC().Format(time.RFC3339Nano) != ent.Time || time.Since(at) > time.Minute || time.Since(at) < 0 {
			t.Errorf("log entry time %q is not now, in UTC, as RFC 3339 with nanoseconds", ent.Time)
		}
		if i >= len(want) {
			t.Errorf("log entry %d too many: %q", i, l)
			continue
		}
		w := want[i]
		exact := appendLogEntry(nil, w.Stream, []byte(w.Log), at)
		if string(exact)+"\n" != l {
			t.Errorf("log entry %d\n%q\nis not as the Go shim writes it:\n%q", i, l, string(exact)+"\n")
		}
	}

	// The idle shim answers a state request as the Go shim does, awake.
	st2, err := e.rt.State(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st2.Status != lifecycle.Running || st2.Pid != st.Pid || !st2.Shim || !st2.StartedAt.Equal(st.StartedAt) {
		t.Errorf("state from an idle shim = %+v, want running %+v", st2, st)
	}
	if exeOf(shim) != bin {
		t.Error("a state request woke the shim")
	}
	// Any other request wakes it, is answered, and the shim goes idle again.
	ctx := context.Background()
	if err := e.rt.Pause(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if st3, err := e.rt.State(ctx, c.ID); err != nil || st3.Status != lifecycle.Paused {
		t.Errorf("state after a pause = %+v, %v; want paused", st3, err)
	}
	if exeOf(shim) == bin {
		t.Error("the shim paused the container without waking")
	}
	if err := e.rt.Resume(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	waitExe(t, shim, bin, true)
	if st3, err := e.rt.State(ctx, c.ID); err != nil || st3.Status != lifecycle.Running || st3.Pid != st.Pid {
		t.Errorf("state after a resume = %+v, %v; want running", st3, err)
	}

	// The exit while idle is the Go shim's to record.
	if err := os.WriteFile(filepath.Join(sig, "exit"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := e.waitExited(t, c.ID); st.ExitCode != 7 {
		t.Errorf("exit while idle: state %+v, want exit 7", st)
	}
	if got := hookCodes(t, c.ID); !slices.Equal(got, []string{"7"}) {
		t.Errorf("exit hook saw %q, want [7]", got)
	}
}

// TestShimIdleRestartAndStop: an exit while idle restarts by policy, and
// stop, kill and logs work with a shim that was idle.
func TestShimIdleRestartAndStop(t *testing.T) {
	bin := withIdle(t)
	e := newTestEnv(t)
	sig := t.TempDir()
	// The first run waits for the shim to go idle, then fails; the
	// second runs on.
	c := e.config(`if [ -e /sig/exit ]; then echo first; while [ ! -e /sig/go ]; do sleep 0.05; done; rm /sig/exit; exit 3; fi; echo second; exec sleep 1000`)
	c.Restart = "on-failure"
	c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
	if err := os.WriteFile(filepath.Join(sig, "exit"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.start(t, c)
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	shim := parentOf(t, st.Pid)
	waitExe(t, shim, bin, true)
	if err := os.WriteFile(filepath.Join(sig, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st2 := e.waitFor(t, c.ID, "restarted", func(s State) bool { return s.Status == lifecycle.Running && s.Restarts == 1 })
	if st2.Pid == st.Pid || parentOf(t, st2.Pid) != shim {
		t.Errorf("after the restart: state %+v, want a new init, child of shim %d", st2, shim)
	}
	if got := hookCodes(t, c.ID); !slices.Equal(got, []string{"3"}) {
		t.Errorf("exit hook saw %q, want [3]", got)
	}
	// Idle again after the restart: its state (the restart count) kept.
	waitExe(t, shim, bin, true)
	st3, err := e.rt.State(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st3.Restarts != 1 || st3.Pid != st2.Pid {
		t.Errorf("state after an idle spell = %+v, want %+v", st3, st2)
	}
	waitExe(t, shim, bin, true)
	if err := e.rt.Stop(context.Background(), c.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	st4, err := e.rt.State(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st4.Status != lifecycle.Exited || !st4.Stopped || st4.Restarts != 1 {
		t.Errorf("state after a stop = %+v, want exited, stopped, 1 restart", st4)
	}
	if got, want := e.logLines(t, c.ID, LogOptions{Tail: -1}), []string{"stdout: first", "stdout: second"}; !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
}

// TestReadWake reads what berth-idle hands the shim it execs back.
func TestReadWake(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "wake")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	fmt.Fprintf(w, "exit oom\nconns 7 9\nstdout 4\npa\nrstderr 0\n")
	w.Flush()
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	// readWake closes what it reads: a duplicate, so that f's own close
	// (or its finalizer) closes no descriptor a later test opened.
	fd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	got, err := readWake(fmt.Sprint(fd))
	if err != nil {
		t.Fatal(err)
	}
	if got.reason != "exit" || !got.oom || !slices.Equal(got.conns, []int{7, 9}) || string(got.pending["stdout"]) != "pa\nr" || got.pending["stderr"] != nil {
		t.Errorf("readWake = %+v", got)
	}
}

// TestShimIdleHealth: health checks go on across idle spells, where they
// were: each probe due wakes the shim, which goes idle again.
func TestShimIdleHealth(t *testing.T) {
	bin := withIdle(t)
	e := newTestEnv(t)
	sig := t.TempDir()
	c := e.config("exec sleep 1000")
	c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
	c.Health = &Health{Test: []string{"/bin/sh", "-c", "echo p >> /sig/probes; [ ! -e /sig/fail ]"}, Interval: 900 * time.Millisecond, Retries: 2}
	e.start(t, c)
	st := e.waitFor(t, c.ID, "healthy", func(s State) bool { return s.Health == HealthHealthy })
	shim := parentOf(t, st.Pid)
	probes := func() int {
		data, _ := os.ReadFile(filepath.Join(sig, "probes"))
		return strings.Count(string(data), "\n")
	}
	// Idle, then woken by the next probe, then idle again: twice.
	for range 2 {
		waitExe(t, shim, bin, true)
		n := probes()
		deadline := time.Now().Add(30 * time.Second)
		for probes() == n {
			if time.Now().After(deadline) {
				t.Fatal("no probe while the shim was idle")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitExe(t, shim, bin, true)
	if st3, err := e.rt.State(context.Background(), c.ID); err != nil || st3.Health != HealthHealthy || st3.Pid != st.Pid {
		t.Fatalf("state after idle spells = %+v, %v; want healthy, pid %d", st3, err, st.Pid)
	}
	// Failures count across idle spells: two make it unhealthy.
	if err := os.WriteFile(filepath.Join(sig, "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n := probes()
	for probes() < n+2 {
		time.Sleep(10 * time.Millisecond)
	}
	st2 := e.waitFor(t, c.ID, "unhealthy", func(s State) bool { return s.Health == HealthUnhealthy })
	if st2.Pid != st.Pid || parentOf(t, st.Pid) != shim {
		t.Errorf("state %+v: want the same init under shim %d", st2, shim)
	}
	// The shim records the event just after it publishes the state.
	want := []string{"health_status: healthy", "health_status: unhealthy"}
	var health []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		health = nil
		for _, ev := range hookEvents(c.ID) {
			if strings.HasPrefix(ev, "health_status") {
				health = append(health, ev)
			}
		}
		if len(health) >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(health, want) {
		t.Errorf("health events = %q, want %q", health, want)
	}
}

// TestShimIdleOOMEvent: the OOM killer striking while the shim is idle
// is an "oom" event, before the die.
func TestShimIdleOOMEvent(t *testing.T) {
	bin := withIdle(t)
	e := newTestEnv(t)
	var id string
	testShimOOMEvent(t, e, func(st State) {
		waitExe(t, parentOf(t, st.Pid), bin, true)
		ids, _ := e.rt.List()
		id = ids[0]
	})
	if got, want := hookEvents(id), []string{"start", "oom", "die exitCode=137"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// TestShimIdleLogRotation: output that fills the log while the shim is
// idle wakes it to rotate the log; nothing is lost or reordered.
func TestShimIdleLogRotation(t *testing.T) {
	bin := withIdle(t)
	e := newTestEnv(t)
	sig := t.TempDir()
	c := e.config(`while [ ! -e /sig/out ]; do sleep 0.05; done; i=0; while [ $i -lt 40 ]; do echo "line $i"; i=$((i+1)); done; exec sleep 1000`)
	c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
	c.Log = &LogConfig{Driver: "json-file", MaxSize: 1000, MaxFiles: 4}
	e.start(t, c)
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	shim := parentOf(t, st.Pid)
	waitExe(t, shim, bin, true)
	if err := os.WriteFile(filepath.Join(sig, "out"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 40 {
		want = append(want, fmt.Sprintf("stdout: line %d", i))
	}
	deadline := time.Now().Add(30 * time.Second)
	for got := e.logLines(t, c.ID, LogOptions{Tail: -1}); !slices.Equal(got, want); got = e.logLines(t, c.ID, LogOptions{Tail: -1}) {
		if time.Now().After(deadline) {
			t.Fatalf("log = %q, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, f := range []string{"", ".1", ".2"} {
		fi, err := os.Stat(e.rt.LogPath(c.ID) + f)
		if err != nil || fi.Size() > 1000 {
			t.Errorf("log file %q: %v, size over 1000 bytes or missing", f, err)
		}
	}
	waitExe(t, shim, bin, true)
}

// TestShimIdleClosedOutput: a container that closes its stdout and runs
// on has a shim that goes idle with its stderr alone.
func TestShimIdleClosedOutput(t *testing.T) {
	bin := withIdle(t)
	e := newTestEnv(t)
	sig := t.TempDir()
	c := e.config(`echo out; exec 1>&-; while [ ! -e /sig/err ]; do sleep 0.05; done; echo err >&2; exec sleep 1000`)
	c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
	e.start(t, c)
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	shim := parentOf(t, st.Pid)
	waitExe(t, shim, bin, true)
	if err := os.WriteFile(filepath.Join(sig, "err"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitLogFile(t, c.ID, 2)
	if got, want := e.logLines(t, c.ID, LogOptions{Tail: -1}), []string{"stdout: out", "stderr: err"}; !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
	if exeOf(shim) != bin {
		t.Errorf("the shim is not idle: it runs %q", exeOf(shim))
	}
}

// environOf is the environment pid was executed with ("" while it execs).
func environOf(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return string(data)
}

// TestShimStartsWithoutReexecAndHandsOverWhenBusy: the shim that started
// a container supervises it itself (no re-exec after the start: going
// idle drops the start's memory); one whose container never lets it go
// idle (output every 50 ms) execs a fresh image of itself a while later
// instead, same pid, the init still its child, with no output lost,
// doubled or reordered, partial lines included; once quiet it goes idle.
func TestShimStartsWithoutReexecAndHandsOverWhenBusy(t *testing.T) {
	bin := withIdle(t)
	e := newTestEnv(t)
	sig := t.TempDir()
	c := e.config(`i=0
while [ ! -e /sig/stop ]; do echo line$i; printf p; sleep 0.05; printf 'q\n'; i=$((i+1)); done
echo end; exec sleep 1000`)
	c.Mounts = []Mount{{Type: "bind", Source: sig, Target: "/sig"}}
	e.start(t, c)
	st := e.waitFor(t, c.ID, "running", func(s State) bool { return s.Status == lifecycle.Running })
	shim := parentOf(t, st.Pid)
	handedOver := func() bool { return strings.Contains(environOf(shim), handoffEnv+"=") }
	if handedOver() {
		t.Fatal("the shim re-executed itself after the start")
	}
	self, _ := os.Executable()
	deadline := time.Now().Add(30 * time.Second)
	for !handedOver() {
		if time.Now().After(deadline) {
			t.Fatalf("the busy shim never handed over to a fresh image; its log:\n%s", tail(e.rt.paths(c.ID).shimLog, 2048))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if exe := exeOf(shim); exe != self {
		t.Errorf("the busy shim runs %q, want a fresh image of %q", exe, self)
	}
	if parentOf(t, st.Pid) != shim {
		t.Fatal("the container's init is no longer the shim's child")
	}
	time.Sleep(300 * time.Millisecond) // output goes on in the fresh image
	if err := os.WriteFile(filepath.Join(sig, "stop"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitExe(t, shim, bin, true)
	var got strings.Builder
	for _, l := range e.waitLogFile(t, c.ID, 1) {
		var ent jsonLogEntry
		if err := json.Unmarshal([]byte(l), &ent); err != nil {
			t.Fatalf("log entry %q: %v", l, err)
		}
		got.WriteString(ent.Log)
	}
	n := strings.Count(got.String(), "line")
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "line%d\npq\n", i)
	}
	want.WriteString("end\n")
	if n < 40 || got.String() != want.String() {
		t.Errorf("logged output (%d lines) is not the container's:\n%q\nwant\n%q", n, got.String(), want.String())
	}
	st2, err := e.rt.State(context.Background(), c.ID)
	if err != nil || st2.Status != lifecycle.Running || st2.Pid != st.Pid || !st2.StartedAt.Equal(st.StartedAt) {
		t.Errorf("state after the hand-over = %+v, %v; want running %+v", st2, err, st)
	}
}
