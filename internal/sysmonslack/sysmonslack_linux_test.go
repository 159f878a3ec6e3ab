//go:build linux && cgo

package sysmonslack

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// probeSlack is the timer slack the probe is started with: neither the
// kernel's default nor sysmon's.
const probeSlack = 61000

// The probe (testdata/probe), a program built with this package and
// started with a slack of its own, reports that only sysmon sleeps with
// the large slack: its main thread, its other threads, a thread made by a
// thread of another slack and its children keep the slack it was started
// with, and while one thread makes system calls that sysmon takes the P
// back from, the other threads wake a few times, not about once per call.
func TestOnlySysmonSleepsWithTheSlack(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "probe")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/probe").CombinedOutput(); err != nil {
		t.Fatalf("building the probe: %v\n%s", err, out)
	}
	out := startWithSlack(t, exec.Command(bin), probeSlack)
	var r struct {
		Main      int
		Threads   []int
		Made      int
		Children  []int
		BusyCalls int
		Wakes     int
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Main != probeSlack || r.Made != probeSlack {
		t.Errorf("main thread %d ns, thread made by a thread of a 7 ms slack %d ns; want %d", r.Main, r.Made, probeSlack)
	}
	for what, s := range map[string][]int{"threads": r.Threads, "children": r.Children} {
		if len(s) == 0 || slices.ContainsFunc(s, func(n int) bool { return n != probeSlack }) {
			t.Errorf("%s: %v ns; want %d each", what, s, probeSlack)
		}
	}
	// Without the slack sysmon wakes ~2.5 times per call (its 20 µs sleeps
	// last ~95 µs here); with it, ~80 times in all.
	if r.Wakes*4 > r.BusyCalls {
		t.Errorf("the other threads woke %d times during %d system calls; want sysmon slowed", r.Wakes, r.BusyCalls)
	}
}

// startWithSlack runs cmd, started from a thread with the given timer
// slack, and returns its standard output.
func startWithSlack(t *testing.T, cmd *exec.Cmd, slack int) []byte {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	was, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.Output()
	unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(was), 0, 0, 0)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return out
}
