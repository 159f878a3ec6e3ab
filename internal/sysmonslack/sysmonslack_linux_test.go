//go:build linux && cgo

package sysmonslack

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// probeSlack is the timer slack the probe is started with: neither the
// kernel's default nor sysmon's.
const probeSlack = 61000

// The probe (testdata/probe), a program built with this package, linked
// statically as berth is, and started with a slack of its own, reports
// that only sysmon sleeps with the large slack: its main thread, its
// other threads, a thread made by a thread of another slack and its
// children (their slack and their default) keep the slack it was started
// with, and while one thread makes system calls that sysmon takes the P
// back from, the other threads wake about once per 5 ms, not tens of
// times per millisecond.
func TestOnlySysmonSleepsWithTheSlack(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "probe")
	build := exec.Command("go", "build", "-tags", "osusergo netgo", "-ldflags=-extldflags=-static", "-o", bin, "./testdata/probe")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the probe: %v\n%s", err, out)
	}
	probe := exec.Command(bin)
	var out bytes.Buffer
	probe.Stdout = &out
	if err := testutil.RunWithTimerSlack(probe, probeSlack); err != nil {
		t.Fatalf("the probe: %v", err)
	}
	var r struct {
		Main      int
		Threads   []int
		Made      int
		Children  []int
		Defaults  []int
		BusyCalls int
		BusyMs    int
		Wakes     int
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	if r.Main != probeSlack || r.Made != probeSlack {
		t.Errorf("main thread %d ns, thread made by a thread of a 7 ms slack %d ns; want %d", r.Main, r.Made, probeSlack)
	}
	for what, s := range map[string][]int{"threads": r.Threads, "children": r.Children, "children's defaults": r.Defaults} {
		if len(s) == 0 || slices.ContainsFunc(s, func(n int) bool { return n != probeSlack }) {
			t.Errorf("%s: %v ns; want %d each", what, s, probeSlack)
		}
	}
	// Without the slack sysmon wakes every ~95 µs here (its 20 µs sleeps
	// and the kernel's default 50 µs slack): ~10 times per millisecond;
	// with it, about once per 5 ms. The threshold is per millisecond, so
	// that a loaded machine, which stretches the calls, does not move it.
	if r.Wakes > 2*max(r.BusyMs, 1) {
		t.Errorf("the other threads woke %d times in %d ms of system calls; want sysmon slowed", r.Wakes, r.BusyMs)
	}
}
