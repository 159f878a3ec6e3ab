package runtime

import (
	"bytes"
	"fmt"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
)

// health runs the container's health check until stop is closed (the run
// it watches has ended), recording the status in the shim's state.
func (s *shim) health(h Health, stop <-chan struct{}) {
	interval, timeout, retries := or(h.Interval, 30*time.Second), or(h.Timeout, 30*time.Second), h.Retries
	if retries <= 0 {
		retries = 3
	}
	started := time.Now()
	s.setHealth(HealthStarting)
	failing := 0
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if err := s.probe(h.Test, timeout); err == nil {
			failing = 0
			s.setHealth(HealthHealthy)
			continue
		}
		if time.Since(started) < h.StartPeriod {
			continue // failures while the service starts do not count
		}
		failing++
		if failing >= retries {
			s.setHealth(HealthUnhealthy)
		}
	}
}

func (s *shim) setHealth(status string) {
	s.mu.Lock()
	s.state.Health = status
	s.mu.Unlock()
}

// probe runs argv inside the running container, as its user, and fails
// unless it exits 0 within timeout.
func (s *shim) probe(argv []string, timeout time.Duration) error {
	s.mu.Lock()
	ctr := s.ctr
	s.mu.Unlock()
	if ctr == nil {
		return ErrNotRunning
	}
	var out bytes.Buffer
	u := s.spec.Process.User
	p := &libcontainer.Process{Args: argv, Env: s.spec.Process.Env, Cwd: s.spec.Process.Cwd,
		UID: int(u.UID), GID: int(u.GID), AdditionalGroups: toInts(u.AdditionalGids), Stdout: &out, Stderr: &out}
	if err := ctr.Run(p); err != nil {
		return fmt.Errorf("running the health check: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		ps, err := p.Wait()
		if err == nil && !ps.Success() {
			err = fmt.Errorf("health check exited with %s: %s", ps, out.Bytes())
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
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

