package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
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

// writeFileAtomic writes data to name through a temporary file and rename,
// so that readers see the old or the new content, never a part. File and
// directory are synced: after a crash of the host the file is there, whole.
func writeFileAtomic(name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer func() {
		if err != nil { // renamed, it is gone already: no failing unlink for nothing
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return syncDir(filepath.Dir(name))
}

// syncDir makes the entries of dir durable (a rename in it, a removal).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

func writeJSONAtomic(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	return writeFileAtomic(name, data)
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
