// Package lifecycle is the vocabulary of a container's life that every
// layer shares: the statuses the runtime reports, which the engine
// observes, the planner decides on and the CLI shows, and the stop grace
// period a container gets when nothing sets one. It depends on nothing, so
// the small runtime binary and the pure planner can both use it.
package lifecycle

import "time"

// Status is where a container is in its life.
type Status string

// The statuses a container can have.
const (
	Running    Status = "running"
	Restarting Status = "restarting" // its shim waits out a restart back-off
	Paused     Status = "paused"     // its processes are frozen (pause); unpause thaws them
	Exited     Status = "exited"
	Created    Status = "created" // a directory and config exist, nothing ran
	Missing    Status = "missing" // recorded, but gone from the host
)

// Active reports whether the container runs, is paused or is about to run
// again: a stop has something to stop, a start has nothing to do.
func (s Status) Active() bool { return s == Running || s == Restarting || s == Paused }

// Signal is a signal parsed from what the user wrote ("SIGKILL", "KILL",
// "9"): its number, and its name for people ("SIGKILL"; the number for a
// signal without a name).
type Signal struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
}

// DefaultStopGrace is how long a stop waits after the stop signal before
// SIGKILL when neither the command (-t) nor the service
// (stop_grace_period) says: Docker's 10 seconds.
const DefaultStopGrace = 10 * time.Second
