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
