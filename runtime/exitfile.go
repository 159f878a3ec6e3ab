package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// exitRecord is exit.json: the last exit of a container, written by its shim.
type exitRecord struct {
	Code       int       `json:"code"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Restarts   int       `json:"restarts"`
	Error      string    `json:"error,omitempty"`      // a restart that failed to start
	OOMKilled  bool      `json:"oom_killed,omitempty"` // the OOM killer killed a process of the run
	Stopped    bool      `json:"stopped,omitempty"`    // the exit followed an explicit stop or kill
}

// writeJSONAtomic writes v as JSON to name, durably: readers see the old
// or the new content, never a part, and after a crash of the host the file
// is there, whole.
func writeJSONAtomic(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	return atomicfile.Write(name, data, atomicfile.Durable())
}

// errTorn marks a state file that exists but does not decode: empty or cut
// short by a crash of the host before its data reached the disk.
var errTorn = errors.New("torn state file")

// readJSON decodes name into v; a missing file is reported as
// os.ErrNotExist, one that does not decode as errTorn.
func readJSON(name string, v any) error {
	data, err := readFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %s: %w: %w", name, errTorn, err)
	}
	return nil
}

// readFile is os.ReadFile for the small state files berth reads by the
// dozen (a no-op `up -d` reads one per container): an os.File costs four
// more system calls on each, to put the file in non-blocking mode, fail
// to register it with the poller and take the mode back. Errors are
// *fs.PathError, as os.ReadFile's.
func readFile(name string) ([]byte, error) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		var n int
		err := retryEINTR(func() (err error) {
			n, err = unix.Read(fd, buf[len(buf):cap(buf)])
			return err
		})
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
