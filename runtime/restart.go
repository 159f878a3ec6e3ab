package runtime

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RestartPolicy is a parsed Config.Restart, with Config's RestartDelay
// and RestartWindow (deploy.restart_policy's delay and window).
type RestartPolicy struct {
	Name       string // "no", "always", "on-failure", "unless-stopped"
	MaxRetries int    // on-failure only; 0 = unlimited
	// Delay, when set, is the wait between an exit and the next start
	// (0: at once), in place of Docker's growing back-off; nil keeps the
	// back-off.
	Delay *time.Duration
	// Window, with MaxRetries, makes only the restarts of the last Window
	// count toward MaxRetries, a sliding window as Swarm's; 0 counts them
	// all. Without MaxRetries it has no effect.
	Window time.Duration
}

// restartPolicy is cfg's restart policy, its delay and window included.
func (cfg Config) restartPolicy() (RestartPolicy, error) {
	p, err := ParseRestartPolicy(cfg.Restart)
	if err != nil {
		return RestartPolicy{}, err
	}
	if cfg.RestartDelay != nil {
		d := *cfg.RestartDelay
		p.Delay = &d
	}
	p.Window = cfg.RestartWindow
	return p, nil
}

// ParseRestartPolicy parses "", "no", "always", "unless-stopped",
// "on-failure" and "on-failure:N" as Docker does.
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	name, max, hasMax := strings.Cut(s, ":")
	switch name {
	case "", "no":
		name = "no"
	case "always", "unless-stopped", "on-failure":
	default:
		return RestartPolicy{}, fmt.Errorf("unknown restart policy %q", s)
	}
	p := RestartPolicy{Name: name}
	if hasMax {
		if name != "on-failure" {
			return RestartPolicy{}, fmt.Errorf("restart policy %q takes no retry count", name)
		}
		n, err := strconv.Atoi(max)
		if err != nil || n < 0 {
			return RestartPolicy{}, fmt.Errorf("restart policy %q: bad retry count", s)
		}
		p.MaxRetries = n
	}
	return p, nil
}

// ShouldRestart says whether a container that exited with code after
// restarts restarts so far (those that count: see Attempts) is started
// again. An explicit stop or kill always wins.
func (p RestartPolicy) ShouldRestart(code, restarts int, stopped bool) bool {
	if stopped {
		return false
	}
	switch p.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (p.MaxRetries == 0 || restarts < p.MaxRetries)
	}
	return false
}

// Attempts is how many restarts count toward MaxRetries at an exit at
// now: all restarts so far, or with a Window and MaxRetries only those of
// times (when each restart was decided, oldest first) later than
// now-Window, as Swarm's restart supervisor counts them.
func (p RestartPolicy) Attempts(restarts int, times []time.Time, now time.Time) int {
	if !p.windowed() {
		return restarts
	}
	lookback := now.Add(-p.Window)
	n := 0
	for _, t := range times {
		if t.After(lookback) {
			n++
		}
	}
	return n
}

// Remember adds a restart decided at now to times, the history Attempts
// reads, dropping what has left the window; it keeps none when the policy
// needs none.
func (p RestartPolicy) Remember(times []time.Time, now time.Time) []time.Time {
	if !p.windowed() {
		return nil
	}
	lookback := now.Add(-p.Window)
	i := 0
	for i < len(times) && !times[i].After(lookback) {
		i++
	}
	return append(times[i:], now)
}

func (p RestartPolicy) windowed() bool { return p.Window > 0 && p.MaxRetries > 0 }

// Wait is the delay before the next start, given the previous one and how
// long the last run lasted: Delay when set, else Docker's back-off.
func (p RestartPolicy) Wait(prev, ran time.Duration) time.Duration {
	if p.Delay != nil {
		return *p.Delay
	}
	return nextBackoff(prev, ran)
}

// killStops says whether a kill with sig is an explicit stop, after which
// the restart policy no longer applies. As in Docker: SIGKILL always; any
// other signal when it is the container's stop signal, or when the
// container names none (stopSignal "", neither its image nor its service).
// Any other signal leaves the policy to act if the container dies of it.
func killStops(sig syscall.Signal, stopSignal string) bool {
	if sig == syscall.SIGKILL || stopSignal == "" {
		return true
	}
	own, err := ParseSignal(stopSignal)
	return err != nil || own == sig
}

// Back-off bounds, as Docker's: 100ms doubling up to a minute, reset after
// a run that lasted at least resetAfter.
const (
	backoffMin = 100 * time.Millisecond
	backoffMax = time.Minute
	resetAfter = 10 * time.Second
)

// nextBackoff is the delay before the next start, given the previous delay
// and how long the last run lasted.
func nextBackoff(prev, ran time.Duration) time.Duration {
	if prev == 0 || ran >= resetAfter {
		return backoffMin
	}
	return min(2*prev, backoffMax)
}
