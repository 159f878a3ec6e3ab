package runtime

import (
	"syscall"
	"testing"
	"time"
)

func TestRestartPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy   string
		code     int
		restarts int
		stopped  bool
		want     bool
	}{
		{"", 1, 0, false, false},
		{"no", 1, 0, false, false},
		{"always", 0, 5, false, true},
		{"always", 1, 0, true, false},
		{"unless-stopped", 0, 0, false, true},
		{"unless-stopped", 0, 0, true, false},
		{"on-failure", 0, 0, false, false},
		{"on-failure", 2, 100, false, true},
		{"on-failure:3", 1, 2, false, true},
		{"on-failure:3", 1, 3, false, false},
		{"on-failure:3", 1, 0, true, false},
	} {
		p, err := ParseRestartPolicy(tc.policy)
		if err != nil {
			t.Fatalf("%q: %v", tc.policy, err)
		}
		if got := p.ShouldRestart(tc.code, tc.restarts, tc.stopped); got != tc.want {
			t.Errorf("%q.ShouldRestart(code %d, restarts %d, stopped %v) = %v", tc.policy, tc.code, tc.restarts, tc.stopped, got)
		}
	}
	for _, bad := range []string{"sometimes", "always:3", "on-failure:x", "on-failure:-1"} {
		if _, err := ParseRestartPolicy(bad); err == nil {
			t.Errorf("ParseRestartPolicy(%q) accepted", bad)
		}
	}
}

func TestBackoff(t *testing.T) {
	d := nextBackoff(0, 0)
	var seq []time.Duration
	for range 12 {
		seq = append(seq, d)
		d = nextBackoff(d, time.Second)
	}
	if seq[0] != 100*time.Millisecond || seq[1] != 200*time.Millisecond || seq[11] != time.Minute {
		t.Errorf("back-off sequence %v", seq)
	}
	if got := nextBackoff(time.Minute, time.Hour); got != 100*time.Millisecond {
		t.Errorf("after a long run the back-off is %v, want reset", got)
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "term": syscall.SIGTERM, "KILL": syscall.SIGKILL, "1": syscall.SIGHUP} {
		got, err := ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "NOPE", "0", "99"} {
		if _, err := ParseSignal(bad); err == nil {
			t.Errorf("ParseSignal(%q) accepted", bad)
		}
	}
}

func TestExitCode(t *testing.T) {
	// WaitStatus layout: exit status in bits 8-15, terminating signal in 0-6.
	if got := exitCode(syscall.WaitStatus(3 << 8)); got != 3 {
		t.Errorf("exit 3 -> %d", got)
	}
	if got := exitCode(syscall.WaitStatus(syscall.SIGKILL)); got != 137 {
		t.Errorf("SIGKILL -> %d", got)
	}
}

// Docker's rule for kill and the restart policy (moby daemon/kill.go).
func TestKillStops(t *testing.T) {
	for _, tc := range []struct {
		sig        syscall.Signal
		stopSignal string
		want       bool
	}{
		{syscall.SIGKILL, "", true},
		{syscall.SIGKILL, "SIGUSR1", true},
		{syscall.SIGUSR1, "", true},
		{syscall.SIGTERM, "SIGTERM", true},
		{syscall.SIGTERM, "15", true},
		{syscall.SIGUSR1, "SIGTERM", false},
		{syscall.SIGHUP, "SIGINT", false},
	} {
		if got := killStops(tc.sig, tc.stopSignal); got != tc.want {
			t.Errorf("kill -s %d with stop signal %q: stops %v, want %v", tc.sig, tc.stopSignal, got, tc.want)
		}
	}
}
