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
}

// startHealth starts checking the current run's health, from "starting"
// when fresh (a new run) or from the status it had (an unpause); the
// caller holds s.mu.
func (s *shim) startHealth(h Health, fresh bool) *healthRun {
	r := &healthRun{stop: make(chan struct{}), done: make(chan struct{})}
	if fresh {
		s.state.Health = HealthStarting // at once: a wait for health right after the start must see it
	}
	go func() {
		defer close(r.done)
		s.checkHealth(h, fresh, r.stop)
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

// checkHealth runs the container's health check until stop is closed,
// recording the status in the shim's state.
func (s *shim) checkHealth(h Health, fresh bool, stop <-chan struct{}) {
	interval, timeout, retries := or(h.Interval, 30*time.Second), or(h.Timeout, 30*time.Second), h.Retries
	if retries <= 0 {
		retries = 3
	}
	started := time.Now()
	if fresh {
		s.setHealth(HealthStarting)
	}
	failing, healthy := 0, false
	startInterval := or(h.StartInterval, 5*time.Second)
	// next is the wait before a probe: Docker's start interval while the
	// start period lasts and no probe has succeeded yet, else the interval.
	next := func() time.Duration {
		if !healthy && h.StartPeriod > 0 && time.Since(started) < h.StartPeriod {
			return startInterval
		}
		return interval
	}
	timer := time.NewTimer(next())
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		case <-timer.C:
		}
		err := s.probe(h.Test, timeout, stop)
		if errors.Is(err, errProbeEnded) {
			return // cut short by the end of the checks: no verdict
		}
		if err == nil {
			failing, healthy = 0, true
			s.setHealth(HealthHealthy)
		} else if time.Since(started) >= h.StartPeriod { // failures while the service starts do not count
			failing++
			if failing >= retries {
				s.setHealth(HealthUnhealthy)
			}
		}
		timer.Reset(next())
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
		UID: int(u.UID), GID: int(u.GID), AdditionalGroups: toInts(u.AdditionalGids), Stdout: out, Stderr: out}
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
