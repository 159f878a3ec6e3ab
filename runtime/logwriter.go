package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Log rotation, as Docker's json-file driver with max-size=10m, max-file=3.
const (
	logMaxSize  = 10 << 20
	logMaxFiles = 3
	// logMaxLine is where a long line is cut into partial entries, as Docker does.
	logMaxLine = 16 << 10
)

// jsonLogEntry is one line of a Docker json-file log.
type jsonLogEntry struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

// logWriter appends entries to a json-file log, rotating it by size.
type logWriter struct {
	mu   sync.Mutex
	path string
	logSettings
	f    *os.File
	size int64
}

// openLogWriter opens (appending) the log at path; with discard (driver
// none) it writes nothing.
func openLogWriter(path string, s logSettings) (*logWriter, error) {
	w := &logWriter{path: path, logSettings: s}
	if s.discard {
		return w, nil
	}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *logWriter) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("opening log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening log: %w", err)
	}
	w.f, w.size = f, st.Size()
	return nil
}

// rotate shifts path.N-1 ... path.1, path one place and starts a new file;
// compressed, the rotated files are path.N.gz and path is compressed into
// path.1.gz.
func (w *logWriter) rotate() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("rotating log: %w", err)
	}
	if w.compress {
		for i := w.maxFiles - 1; i > 1; i-- {
			if err := os.Rename(w.path+"."+strconv.Itoa(i-1)+".gz", w.path+"."+strconv.Itoa(i)+".gz"); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("rotating log: %w", err)
			}
		}
		if err := gzipFile(w.path, w.path+".1.gz"); err != nil {
			return err
		}
		return w.open()
	}
	for i := w.maxFiles - 1; i > 0; i-- {
		from := w.path
		if i > 1 {
			from += "." + strconv.Itoa(i-1)
		}
		if err := os.Rename(from, w.path+"."+strconv.Itoa(i)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotating log: %w", err)
		}
	}
	if w.maxFiles <= 1 {
		if err := os.Truncate(w.path, 0); err != nil {
			return fmt.Errorf("rotating log: %w", err)
		}
	}
	return w.open()
}

// write appends one entry.
func (w *logWriter) write(stream string, text []byte, at time.Time) error {
	line := append(appendLogEntry(make([]byte, 0, len(text)+96), stream, text, at), '\n')
	if w.discard {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.maxSize > 0 && w.size > 0 && w.size+int64(len(line)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(line)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("writing log: %w", err)
	}
	return nil
}

// idleFlush is how long a partial line waits for the rest of it before
// it is logged as it is (a prompt, a progress bar), so that it shows in
// logs -f.
const idleFlush = 100 * time.Millisecond

// deadliner is a stream whose reads can time out: pipes and terminals.
type deadliner interface{ SetReadDeadline(time.Time) error }

// copyFrom logs what it reads from r until its end as entries of stream,
// one a line, and passes it on to tee (if not nil) as it comes. A line
// longer than logMaxLine becomes several partial entries, as Docker
// makes them; where r can time out, so does the start of a line that
// waits idleFlush for the rest.
func (w *logWriter) copyFrom(stream string, r io.Reader, tee io.Writer) error {
	buf := make([]byte, logMaxLine)
	n := 0
	dl, _ := r.(deadliner)
	for {
		if dl != nil {
			var deadline time.Time
			if n > 0 {
				deadline = time.Now().Add(idleFlush)
			}
			_ = dl.SetReadDeadline(deadline)
		}
		m, err := r.Read(buf[n:])
		if m > 0 && tee != nil {
			_, _ = tee.Write(buf[n : n+m])
		}
		n += m
		p := 0
		for q := bytes.IndexByte(buf[p:n], '\n'); q >= 0; q = bytes.IndexByte(buf[p:n], '\n') {
			if werr := w.write(stream, buf[p:p+q+1], time.Now()); werr != nil {
				return werr
			}
			p += q + 1
		}
		idle := errors.Is(err, os.ErrDeadlineExceeded)
		if p < n && (err != nil || p == 0 && n == len(buf)) {
			if werr := w.write(stream, buf[p:n], time.Now()); werr != nil {
				return werr
			}
			p = n
		}
		n = copy(buf, buf[p:n])
		switch {
		case err == nil, idle:
		case errors.Is(err, io.EOF), errors.Is(err, os.ErrClosed), errors.Is(err, syscall.EIO): // EIO: a terminal whose other side is gone
			return nil
		default:
			return fmt.Errorf("reading container %s: %w", stream, err)
		}
	}
}

// Close closes the log file.
func (w *logWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	return w.f.Close()
}
