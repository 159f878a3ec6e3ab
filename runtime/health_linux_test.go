package runtime

import (
	"context"
	"testing"
	"time"
)

func TestHealthCheck(t *testing.T) {
	e := newTestEnv(t)
	ok := e.config("sleep 0.5; touch /tmp/ready; exec sleep 1000")
	ok.Health = &Health{Test: []string{"test", "-f", "/tmp/ready"}, Interval: 100 * time.Millisecond, Retries: 100}
	bad := e.config("exec sleep 1000")
	bad.ID += "-bad"
	bad.Health = &Health{Test: []string{"false"}, Interval: 100 * time.Millisecond, Retries: 2}
	for _, c := range []Config{ok, bad} {
		e.start(t, c)
	}
	if st, _ := e.rt.State(context.Background(), ok.ID); st.Health != HealthStarting {
		t.Errorf("before its first success the container is %q, want starting", st.Health)
	}
	e.waitFor(t, ok.ID, "healthy", func(st State) bool { return st.Health == HealthHealthy })
	e.waitFor(t, bad.ID, "unhealthy", func(st State) bool { return st.Health == HealthUnhealthy })
}

// During the start period, until the first success, probes come every
// StartInterval, not every Interval (Docker's start_interval).
func TestHealthStartInterval(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("sleep 0.3; touch /tmp/ready; exec sleep 1000")
	c.Health = &Health{Test: []string{"test", "-f", "/tmp/ready"}, Interval: time.Hour, StartPeriod: time.Minute, StartInterval: 100 * time.Millisecond}
	e.start(t, c)
	e.waitFor(t, c.ID, "healthy within the start period", func(st State) bool { return st.Health == HealthHealthy })
}

// A stop does not wait for a health probe in flight to end: once the
// probe runs it is killed, so the stop of a container whose probe sleeps
// a minute returns long before that minute (a start-first rollout's old
// container goes at once; the bound is a hang guard, not a timing
// assertion).
func TestStopCutsProbeShort(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("while [ ! -f /tmp/probing ]; do sleep 0.02; done; echo probing; exec sleep 1000")
	c.Health = &Health{Test: []string{"sh", "-c", "touch /tmp/probing; exec sleep 60"}, Interval: 50 * time.Millisecond, Timeout: 5 * time.Minute}
	e.start(t, c)
	e.waitLog(t, c.ID, 1) // the probe runs
	start := time.Now()
	if err := e.rt.Stop(context.Background(), c.ID, 0); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("the stop took %s: it waited for the probe", d)
	}
	if st := e.waitExited(t, c.ID); st.Health == HealthUnhealthy {
		t.Errorf("the probe cut short counted as a failure: %+v", st)
	}
}
