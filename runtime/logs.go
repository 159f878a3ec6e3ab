package runtime

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LogOptions selects the log lines ReadLogs delivers.
type LogOptions struct {
	Follow bool      // after the existing lines, wait for new ones until the shim is gone or ctx ends
	Tail   int       // only the last Tail lines; -1 = all
	Since  time.Time // only lines at or after Since; zero = all
	Until  time.Time // only lines at or before Until, following no later; zero = no end
}

// LogLine is one entry of a container log. Text keeps its trailing
// newline; a line without one is a partial line.
type LogLine struct {
	Stream string
	Time   time.Time
	Text   string
}

// followPoll is how often a followed log is checked for new lines.
const followPoll = 100 * time.Millisecond

// ReadLogs calls fn for each selected line of the json-file log at path
// and its rotated predecessors, oldest first. An error from fn stops the
// reading and is returned.
func ReadLogs(ctx context.Context, path string, o LogOptions, fn func(LogLine) error) error {
	var lines []LogLine
	keep := func(l LogLine) error {
		if !o.Since.IsZero() && l.Time.Before(o.Since) || !o.Until.IsZero() && l.Time.After(o.Until) {
			return nil
		}
		if o.Tail < 0 {
			return fn(l)
		}
		lines = append(lines, l)
		if len(lines) > o.Tail {
			lines = lines[1:]
		}
		return nil
	}
	rotated, err := rotatedLogs(path)
	if err != nil {
		return err
	}
	for _, name := range rotated {
		if err := readLogFile(name, keep); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && !o.Follow {
		return flushTail(lines, fn)
	}
	if err != nil {
		return fmt.Errorf("reading log: %w", err)
	}
	t := &logTail{f: f, r: bufio.NewReader(f)}
	defer func() { t.f.Close() }()
	if err := t.drain(keep); err != nil {
		return err
	}
	if err := flushTail(lines, fn); err != nil {
		return err
	}
	if !o.Follow {
		return nil
	}
	o.Tail = -1
	if !o.Until.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, o.Until)
		defer cancel()
	}
	return t.follow(ctx, path, keep)
}

func flushTail(lines []LogLine, fn func(LogLine) error) error {
	for _, l := range lines {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

// readLogFile feeds every entry of one log file (gzip-compressed when its
// name ends in .gz) to fn; a missing file has none.
func readLogFile(name string, fn func(LogLine) error) error {
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading log: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("reading log %s: %w", name, err)
		}
		defer zr.Close()
		r = zr
	}
	t := &logTail{f: f, r: bufio.NewReader(r)}
	return t.drain(fn)
}

// logTail reads a log file that may still grow.
type logTail struct {
	f       *os.File
	r       *bufio.Reader
	partial []byte // an entry whose newline has not been written yet
}

// drain feeds every complete entry up to the current end of file to fn.
func (t *logTail) drain(fn func(LogLine) error) error {
	for {
		chunk, err := t.r.ReadBytes('\n')
		t.partial = append(t.partial, chunk...)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading log: %w", err)
		}
		line := bytes.TrimSpace(t.partial)
		t.partial = t.partial[:0]
		if len(line) == 0 {
			continue
		}
		l, err := decodeLogLine(line)
		if err != nil {
			return err
		}
		if err := fn(l); err != nil {
			return err
		}
	}
}

// follow keeps draining the file, moving to the new file when the log is
// rotated, until the shim that writes it is gone or ctx ends.
func (t *logTail) follow(ctx context.Context, path string, fn func(LogLine) error) error {
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		alive := shimAlive(filepath.Dir(path))
		if err := t.drain(fn); err != nil {
			return err
		}
		if rotated(t.f, path) {
			f, err := os.Open(path)
			if err == nil {
				t.f.Close()
				t.f, t.r, t.partial = f, bufio.NewReader(f), nil
				continue
			}
		}
		if !alive {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// rotated reports whether path no longer names the open file f.
func rotated(f *os.File, path string) bool {
	cur, err := f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Stat(path)
	return err == nil && !os.SameFile(cur, now)
}

func decodeLogLine(b []byte) (LogLine, error) {
	var e jsonLogEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return LogLine{}, fmt.Errorf("decoding log entry %q: %w", b, err)
	}
	t, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return LogLine{}, fmt.Errorf("decoding log entry time %q: %w", e.Time, err)
	}
	return LogLine{Stream: e.Stream, Time: t, Text: e.Log}, nil
}
