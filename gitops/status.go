package gitops

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// Status is what the follower of a stack did, as `berth reconcile status`
// shows it. It holds no credential: the URL is redacted.
type Status struct {
	Name           string      `json:"name"`
	URL            string      `json:"url"`
	Ref            string      `json:"ref,omitempty"`
	Path           string      `json:"path,omitempty"`
	Applied        string      `json:"applied,omitempty"` // the commit the host runs
	AppliedSubject string      `json:"applied_subject,omitempty"`
	AppliedAt      time.Time   `json:"applied_at,omitzero"`
	LastFetch      time.Time   `json:"last_fetch,omitzero"`
	FetchError     string      `json:"fetch_error,omitempty"`
	LastPass       *PassStatus `json:"last_pass,omitempty"`
	Failed         *Failure    `json:"failed,omitempty"` // the last commit not applied, and why
	Passes         int         `json:"passes"`
	FailedPasses   int         `json:"failed_passes"`
	DriftRepairs   int         `json:"drift_repairs"` // passes that changed the host with no new commit
	// DriftActions counts the actions of those passes by kind
	// ("create-network", "create", …), as /metrics does.
	DriftActions map[string]int `json:"drift_actions,omitempty"`
}

// PassStatus is the outcome of one pass.
type PassStatus struct {
	At      time.Time `json:"at"`
	Summary string    `json:"summary"`
	Error   string    `json:"error,omitempty"`
}

// Failure is a commit that was not applied.
type Failure struct {
	Commit  string    `json:"commit"`
	Subject string    `json:"subject"`
	Error   string    `json:"error"`
	At      time.Time `json:"at"`
}

const statusFile = "status.json"

// ReadStatus reads the status kept in a follower's directory.
func ReadStatus(dir string) (Status, error) {
	var s Status
	b, err := os.ReadFile(filepath.Join(dir, statusFile))
	if err != nil {
		return s, err
	}
	err = json.Unmarshal(b, &s)
	return s, err
}

// WriteStatus replaces the status file in dir atomically, synced (not
// its directory: after a crash of the host an older status may be back).
func WriteStatus(dir string, s Status) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, statusFile), append(b, '\n'), atomicfile.SyncFile())
}

// Outcome is what a pass applied: the host's plan, or the cluster's
// changes (reconcile --kube).
type Outcome interface {
	Empty() bool
	Summary() string
}
