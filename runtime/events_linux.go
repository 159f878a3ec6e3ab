package runtime

import (
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
)

// EventHook records an event of container id (its name), with the state
// root the shim serves, the action as Docker names it ("start", "die",
// "kill", "stop", "pause", "unpause", "oom", "health_status: healthy")
// and the action's own attributes. It runs in the shim process,
// synchronously: the shim's events are recorded in the order they happen.
type EventHook func(root, id, action string, attrs map[string]string, at time.Time)

// event records action through the hook, if there is one.
func (s *shim) event(action string, attrs map[string]string) {
	if s.events == nil || s.dropped.Load() { // a drop's caller records them
		return
	}
	s.evMu.Lock()
	defer s.evMu.Unlock()
	s.events(s.root, s.cfg.ID, action, attrs, time.Now())
}

// eventIf records action when err is nil, and returns err.
func (s *shim) eventIf(err error, action string) error {
	if err == nil {
		s.event(action, nil)
	}
	return err
}

// killAttributes are a kill event's, as Docker's: the signal's number.
func killAttributes(sig syscall.Signal) map[string]string {
	return map[string]string{"signal": strconv.Itoa(int(sig))}
}

// dieAttributes are a die event's, as Docker's: the exit code and how
// long the run lasted, in whole seconds.
func dieAttributes(code int, st State) map[string]string {
	return map[string]string{"exitCode": strconv.Itoa(code),
		"execDuration": strconv.Itoa(int(st.FinishedAt.Sub(st.StartedAt).Seconds()))}
}

// watchOOM records an "oom" event when the kernel's OOM killer kills a
// process of this run of the container (once per run: the cgroup's
// memory.events says that it happened, not how often).
// memDir is the run's cgroup v1 memory cgroup; without one (cgroup v2)
// libcontainer watches, through ctr.
func (s *shim) watchOOM(ctr *libcontainer.Container, memDir string) {
	if s.events == nil {
		return
	}
	var once sync.Once
	fire := func() { once.Do(s.oomEvent) }
	if memDir != "" {
		_ = notifyOOMv1(memDir, fire) // an error: no memory controller, no OOM events, as without a limit
		return
	}
	if ctr == nil {
		var err error
		if ctr, err = s.container(); err != nil {
			return
		}
	}
	ch, err := ctr.NotifyOOM()
	if err != nil {
		return
	}
	go func() {
		for range ch {
			fire()
		}
	}()
}
