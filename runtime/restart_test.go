package runtime

import (
	"strings"
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

// delay replaces the back-off: the same wait after every exit, however
// long the run, 0 meaning at once; without it the back-off grows.
func TestRestartDelay(t *testing.T) {
	second, zero := time.Second, time.Duration(0)
	fixed := RestartPolicy{Name: "on-failure", Delay: &second}
	if got := fixed.Wait(0, 0); got != time.Second {
		t.Errorf("first wait %v, want 1s", got)
	}
	if got := fixed.Wait(time.Second, time.Millisecond); got != time.Second {
		t.Errorf("wait after a short run %v, want 1s (no back-off)", got)
	}
	if got := (RestartPolicy{Name: "always", Delay: &zero}).Wait(time.Minute, 0); got != 0 {
		t.Errorf("delay 0s waits %v", got)
	}
	if got := (RestartPolicy{Name: "always"}).Wait(200*time.Millisecond, 0); got != 400*time.Millisecond {
		t.Errorf("without a delay the wait is %v, want the back-off's 400ms", got)
	}
}

// window with max_attempts counts only the restarts decided within the
// last window before the exit, as Swarm's supervisor; without a window,
// or without max_attempts, every restart counts (and none are kept).
func TestRestartWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	p := RestartPolicy{Name: "on-failure", MaxRetries: 2, Window: 10 * time.Second}
	var times []time.Time
	restarts := 0
	// Exits at 0s and 1s restart; at 2s two restarts lie in the window:
	// it gives up.
	for _, s := range []int{0, 1} {
		if !p.ShouldRestart(1, p.Attempts(restarts, times, at(s)), false) {
			t.Fatalf("exit at %ds not restarted", s)
		}
		times, restarts = p.Remember(times, at(s)), restarts+1
	}
	if p.ShouldRestart(1, p.Attempts(restarts, times, at(2)), false) {
		t.Error("third exit within the window restarted")
	}
	// At 10.5s the restart of 0s has left the window (10s), at 11s the
	// one of 1s has too: the lookback excludes its own edge.
	if n := p.Attempts(restarts, times, at(10).Add(500*time.Millisecond)); n != 1 {
		t.Errorf("attempts at 10.5s %d, want 1", n)
	}
	if n := p.Attempts(restarts, times, at(11)); n != 0 {
		t.Errorf("attempts at 11s %d, want 0", n)
	}
	if !p.ShouldRestart(1, p.Attempts(restarts, times, at(11)), false) {
		t.Error("exit after the window not restarted")
	}
	times = p.Remember(times, at(11))
	if len(times) != 1 || !times[0].Equal(at(11)) {
		t.Errorf("history kept %v, want only 11s", times)
	}
	// Without a window all restarts count; without a retry count the
	// window keeps nothing and changes nothing.
	all := RestartPolicy{Name: "on-failure", MaxRetries: 2}
	if n := all.Attempts(5, times, at(100)); n != 5 || all.Remember(times, at(100)) != nil {
		t.Errorf("no window: attempts %d, history kept", n)
	}
	unbounded := RestartPolicy{Name: "on-failure", Window: time.Second}
	if n := unbounded.Attempts(7, nil, at(100)); n != 7 || unbounded.Remember(nil, at(100)) != nil || !unbounded.ShouldRestart(1, 7, false) {
		t.Errorf("window without max_attempts: attempts %d", n)
	}
}

// A config's delay and window reach its policy; negative ones are refused.
func TestConfigRestartPolicy(t *testing.T) {
	d := 3 * time.Second
	p, err := Config{Restart: "on-failure:2", RestartDelay: &d, RestartWindow: time.Minute}.restartPolicy()
	if err != nil || p.Name != "on-failure" || p.MaxRetries != 2 || p.Delay == nil || *p.Delay != d || p.Window != time.Minute {
		t.Fatalf("policy %+v, %v", p, err)
	}
	neg := -d
	if err := (Config{ID: "x", Layers: []string{"/l"}, Args: []string{"true"}, RestartDelay: &neg}).Validate(); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative delay: %v", err)
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
