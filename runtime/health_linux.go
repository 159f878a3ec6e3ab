package runtime

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
)

// healthRun is the health checking of one run of the container.
type healthRun struct {
	stop chan struct{} // closed to end it
	done chan struct{} // closed when it has ended, no probe in flight
	once sync.Once

	mu      sync.Mutex
	p       healthProgress
	probing bool
}

// healthProgress is where a run's health checking is: what an idle shim
// hands over, to go on where it was (see shimidle_linux.go).
type healthProgress struct {
	Started time.Time `json:"started"` // when the checks began: the start period counts from it
	Failing int       `json:"failing,omitempty"`
	Healthy bool      `json:"healthy,omitempty"` // a probe has succeeded
	Next    time.Time `json:"next"`              // when the next probe is due
	Status  string    `json:"status"`
}

// startHealth starts checking the current run's health, from "starting"
// when fresh (a new run) or from the status it had (an unpause), or
// where an idle spell left it; the caller holds s.mu.
func (s *shim) startHealth(h Health, fresh bool) *healthRun {
	r := &healthRun{stop: make(chan struct{}), done: make(chan struct{})}
	if p := s.idle.health; p != nil {
		r.p, fresh = *p, false
		s.idle.health = nil
		s.state.Health = p.Status
	}
	if fresh {
		s.state.Health = HealthStarting // at once: a wait for health right after the start must see it
	}
	go func() {
		defer close(r.done)
		s.checkHealth(h, fresh, r)
	}()
	return r
}

// endHealth ends the current run's health checks and waits for a probe in
// flight: a probe joining the container while it stops or is destroyed
// would hold libcontainer's container lock for ever. A probe that has
// joined is killed rather than waited for (see probe): a stop waits at
// most for a probe's start, not for its run.
func (s *shim) endHealth() {
	s.mu.Lock()
	r := s.health
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.once.Do(func() { close(r.stop) })
	<-r.done
}

// checkHealth runs the container's health check until r.stop is closed,
// recording the status in the shim's state.
func (s *shim) checkHealth(h Health, fresh bool, r *healthRun) {
	interval, timeout, retries := or(h.Interval, 30*time.Second), or(h.Timeout, 30*time.Second), h.Retries
	if retries <= 0 {
		retries = 3
	}
	if fresh {
		s.setHealth(HealthStarting)
	}
	r.mu.Lock()
	if r.p.Started.IsZero() {
		r.p.Started = time.Now()
	}
	p := &r.p
	r.mu.Unlock()
	startInterval := or(h.StartInterval, 5*time.Second)
	// next is the wait before a probe: Docker's start interval while the
	// start period lasts and no probe has succeeded yet, else the interval.
	next := func() time.Duration {
		if !p.Healthy && h.StartPeriod > 0 && time.Since(p.Started) < h.StartPeriod {
			return startInterval
		}
		return interval
	}
	wait := next()
	if !p.Next.IsZero() {
		wait = time.Until(p.Next)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		r.mu.Lock()
		p.Next, r.probing = time.Now().Add(wait), false
		r.mu.Unlock()
		select {
		case <-r.stop:
			return
		case <-timer.C:
		}
		r.mu.Lock()
		r.probing = true
		r.mu.Unlock()
		err := s.probe(h.Test, timeout, r.stop)
		if errors.Is(err, errProbeEnded) {
			return // cut short by the end of the checks: no verdict
		}
		r.mu.Lock()
		status := ""
		if err == nil {
			p.Failing, p.Healthy, status = 0, true, HealthHealthy
		} else if time.Since(p.Started) >= h.StartPeriod { // failures while the service starts do not count
			p.Failing++
			if p.Failing >= retries {
				status = HealthUnhealthy
			}
		}
		r.mu.Unlock()
		if status != "" {
			s.setHealth(status)
		}
		wait = next()
		timer.Reset(wait)
	}
}

func (s *shim) setHealth(status string) {
	s.mu.Lock()
	old := s.state.Health
	s.state.Health = status
	if status != old {
		s.publish()
	}
	s.mu.Unlock()
	if status != old && status != HealthStarting {
		s.event("health_status: "+status, nil) // as Docker spells it
	}
}

// errProbeEnded is a probe killed because the health checks ended.
var errProbeEnded = errors.New("health check ended")

// probe runs argv inside the running container, as its user, and fails
// unless it exits 0 within timeout. Once it runs, the closing of stop
// kills it (errProbeEnded): the container's stop need not wait for it.
func (s *shim) probe(argv []string, timeout time.Duration, stop <-chan struct{}) error {
	ctr, err := s.container()
	if err != nil {
		return err
	}
	spec, err := s.theSpec()
	if err != nil {
		return err
	}
	out := &limitedBuffer{max: maxHealthOutput}
	u := spec.Process.User
	p := &libcontainer.Process{Args: argv, Env: spec.Process.Env, Cwd: spec.Process.Cwd,
		UID: int(u.UID), GID: int(u.GID), AdditionalGroups: toInts(u.AdditionalGids), Stdout: out, Stderr: out,
		LogLevel: initLogLevel()}
	if err := ctr.Run(p); err != nil {
		return fmt.Errorf("running the health check: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		ps, err := p.Wait()
		if err == nil && !ps.Success() {
			err = fmt.Errorf("health check exited with %s: %s", ps, out)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-stop:
		_ = p.Signal(syscall.SIGKILL)
		<-done
		return errProbeEnded
	case <-time.After(timeout):
		_ = p.Signal(syscall.SIGKILL)
		<-done
		return fmt.Errorf("health check timed out after %s", timeout)
	}
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
