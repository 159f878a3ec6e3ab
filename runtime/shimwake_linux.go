package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A shim woken from an idle spell (see shimidle_linux.go): what berth-idle
// tells it, and the state it takes up again.

// wake prepares a re-executed shim for its run l: what an idle spell
// left (its state, the output it read but did not log, what woke it) and
// whether it goes idle. It returns the last restart's delay.
func (s *shim) wake(h handoff, l *launched) time.Duration {
	s.setupIdle()
	s.idle.memDir = l.memDir
	if h.Idle != nil {
		s.state.Restarts = h.Idle.Restarts
		s.restartTimes = h.Idle.RestartTimes
		s.idle.backoff = h.Idle.Backoff
		s.idle.health = h.Idle.Health
		s.idle.oomRun = h.Idle.OOMRun
	}
	fdText := os.Getenv(wakeEnv)
	if fdText == "" {
		return s.idle.backoff
	}
	os.Unsetenv(wakeEnv)
	w, err := readWake(fdText)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim %s: %v\n", s.cfg.ID, err)
		return s.idle.backoff
	}
	s.idle.pending = w.pending
	if w.reason == "error" { // berth-idle could not wait (see the shim's log): stay
		s.idle.on = false
	}
	if w.oom {
		s.oomEventOf(l.at)
	}
	for _, fd := range w.conns {
		f := os.NewFile(uintptr(fd), "conn")
		c, err := net.FileConn(f) // a duplicate
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "shim %s: taking over a connection: %v\n", s.cfg.ID, err)
			continue
		}
		s.idle.conns = append(s.idle.conns, c)
	}
	return s.idle.backoff
}

// oomEvent reports an OOM kill in the current run, once per run.
func (s *shim) oomEvent() {
	s.mu.Lock()
	run := s.state.StartedAt
	s.mu.Unlock()
	s.oomEventOf(run)
}

// oomEventOf reports an OOM kill in the run started at run, once.
func (s *shim) oomEventOf(run time.Time) {
	s.idle.mu.Lock()
	again := s.idle.oomRun.Equal(run)
	s.idle.oomRun = run
	s.idle.mu.Unlock()
	if !again && s.events != nil {
		s.event("oom", nil)
	}
}

// wakeInfo is what berth-idle tells the shim it execs back.
type wakeInfo struct {
	reason  string
	oom     bool              // the OOM killer struck while idle
	conns   []int             // connections accepted, to answer
	pending map[string][]byte // output read, not logged yet, by stream
}

// readWake reads what woke the shim from the descriptor named by fdText
// (see cmd/berth-idle), and closes it.
func readWake(fdText string) (wakeInfo, error) {
	w := wakeInfo{pending: map[string][]byte{}}
	fd, err := strconv.Atoi(fdText)
	if err != nil {
		return w, fmt.Errorf("bad %s %q", wakeEnv, fdText)
	}
	f := os.NewFile(uintptr(fd), "wake")
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return w, fmt.Errorf("reading the wake: %w", err)
	}
	r := bufio.NewReader(f)
	reason, err := r.ReadString('\n')
	if err != nil {
		return w, fmt.Errorf("reading the wake: %w", err)
	}
	words := strings.Fields(reason)
	if len(words) == 0 {
		return w, errors.New("reading the wake: no reason")
	}
	w.reason, w.oom = words[0], slices.Contains(words, "oom")
	line, err := r.ReadString('\n')
	conns := strings.Fields(line)
	if err != nil || len(conns) == 0 || conns[0] != "conns" {
		return w, fmt.Errorf("reading the wake: bad connections %q", line)
	}
	for _, c := range conns[1:] {
		fd, err := strconv.Atoi(c)
		if err != nil {
			return w, fmt.Errorf("reading the wake: bad connections %q", line)
		}
		w.conns = append(w.conns, fd)
	}
	for {
		head, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) && head == "" {
			return w, nil
		}
		if err != nil {
			return w, fmt.Errorf("reading the wake: %w", err)
		}
		stream, size, ok := strings.Cut(strings.TrimSuffix(head, "\n"), " ")
		n, aerr := strconv.Atoi(size)
		if !ok || aerr != nil || n < 0 || n > logMaxLine {
			return w, fmt.Errorf("reading the wake: bad output header %q", head)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			return w, fmt.Errorf("reading the wake: %w", err)
		}
		if n > 0 {
			w.pending[stream] = data
		}
	}
}
