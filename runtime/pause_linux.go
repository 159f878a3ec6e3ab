package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/berth-dev/berth/lifecycle"
)

// ErrNotPaused reports a container that unpause finds not paused (a
// second pause fails with ErrPaused).
var ErrNotPaused = errors.New("container is not paused")

// Pause freezes every process of container id with the cgroup freezer
// (cgroup v1 or v2), as docker pause does. Its health checks wait until
// it is thawed.
func (r *Runtime) Pause(ctx context.Context, id string) error {
	if err := r.freezer(ctx, id, "pause"); err != nil {
		return fmt.Errorf("pausing %q: %w", id, err)
	}
	return nil
}

// Resume thaws a paused container id, as docker unpause does.
func (r *Runtime) Resume(ctx context.Context, id string) error {
	if err := r.freezer(ctx, id, "resume"); err != nil {
		return fmt.Errorf("unpausing %q: %w", id, err)
	}
	return nil
}

// freezer asks the shim of id to pause or resume its container; without
// a shim, libcontainer does it from its state.
func (r *Runtime) freezer(ctx context.Context, id, op string) error {
	p := r.paths(id)
	if _, err := os.Stat(p.dir); err != nil {
		return ErrNotFound
	}
	if shimAlive(p.dir) {
		resp, err := callShim(ctx, p.sock, shimRequest{Op: op})
		if err != nil && resp.Error != "" {
			return shimError(resp.Error, err)
		}
		return err
	}
	o, err := loadOrphan(p.stateRoot, id)
	if err != nil {
		return err
	}
	if o == nil {
		return ErrNotRunning
	}
	if op == "pause" {
		return o.ctr.Pause()
	}
	return o.ctr.Resume()
}

// shimError turns the shim's answer back into the sentinel it stands for.
func shimError(msg string, err error) error {
	for _, s := range []error{ErrPaused, ErrNotPaused} {
		if msg == s.Error() {
			return s
		}
	}
	return err
}

// pause freezes the running container, after ending its health checks: a
// probe frozen with it could never be reaped.
func (s *shim) pause() error {
	if err := s.wantStatus(lifecycle.Running, ErrPaused); err != nil {
		return err
	}
	s.endHealth()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Status != lifecycle.Running {
		return ErrNotRunning
	}
	ctr, err := s.container()
	if err == nil {
		err = ctr.Pause()
	}
	if err != nil {
		s.resumeHealth()
		return fmt.Errorf("freezing: %w", err)
	}
	s.state.Status = lifecycle.Paused
	s.publish()
	return nil
}

// resume thaws the paused container and its health checks.
func (s *shim) resume() error {
	if err := s.wantStatus(lifecycle.Paused, ErrNotPaused); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ctr, err := s.container()
	if err == nil {
		err = ctr.Resume()
	}
	if err != nil {
		return fmt.Errorf("thawing: %w", err)
	}
	s.state.Status = lifecycle.Running
	s.resumeHealth()
	s.publish()
	return nil
}

// wantStatus fails unless the container is in status want: with other
// when it is paused or running, else with ErrNotRunning.
func (s *shim) wantStatus(want lifecycle.Status, other error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state.Status {
	case want:
		return nil
	case lifecycle.Running, lifecycle.Paused:
		return other
	}
	return ErrNotRunning
}

// thaw resumes the container if it is paused, so that a signal sent to
// end it takes effect.
func (s *shim) thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Status != lifecycle.Paused {
		return
	}
	ctr, err := s.container()
	if err == nil {
		err = ctr.Resume()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim %s: thawing: %v\n", s.cfg.ID, err)
		return
	}
	s.state.Status = lifecycle.Running
	s.publish()
}

// resumeHealth starts the health checks again after a pause, keeping the
// status they had; the caller holds s.mu.
func (s *shim) resumeHealth() {
	if s.cfg.Health != nil && !s.stopped {
		s.health = s.startHealth(*s.cfg.Health, false)
	}
}
