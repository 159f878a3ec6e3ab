package runtime

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RestartPolicy is a parsed Config.Restart.
type RestartPolicy struct {
	Name       string // "no", "always", "on-failure", "unless-stopped"
	MaxRetries int    // on-failure only; 0 = unlimited
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
// restarts restarts so far is started again. An explicit stop or kill
// always wins.
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
