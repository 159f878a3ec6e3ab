package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

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
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %s: %w: %w", name, errTorn, err)
	}
	return nil
}
