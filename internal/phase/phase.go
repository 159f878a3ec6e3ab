// Package phase records how long each step of a container's life takes,
// for finding where the time of `up` and `down` goes: when the environment
// variable BERTH_PHASES names a file, every process of berth (the CLI and
// the shims it spawns, which inherit the variable) appends one line per
// step to it, "PID SUBJECT STEP START_NS DURATION_NS", START_NS being Unix
// nanoseconds. bench/phases.sh turns the lines into a table. Without the
// variable a step costs one atomic load.
package phase

import (
	"fmt"
	"os"
	"sync"
	"time"
)

var (
	once sync.Once
	out  *os.File
	mu   sync.Mutex
)

func file() *os.File {
	once.Do(func() {
		if name := os.Getenv("BERTH_PHASES"); name != "" {
			out, _ = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		}
	})
	return out
}

// Start begins step of subject (a container's name or ID, or "" for the
// whole command) and returns the function that ends it.
func Start(subject, step string) func() {
	f := file()
	if f == nil {
		return func() {}
	}
	t := time.Now()
	return func() { Record(subject, step, t, time.Since(t)) }
}

// Record writes a step that began at start and took d.
func Record(subject, step string, start time.Time, d time.Duration) {
	f := file()
	if f == nil {
		return
	}
	if subject == "" {
		subject = "-"
	}
	line := fmt.Sprintf("%d %s %s %d %d\n", os.Getpid(), subject, step, start.UnixNano(), d.Nanoseconds())
	mu.Lock()
	_, _ = f.WriteString(line) // O_APPEND: whole lines from every process
	mu.Unlock()
}
