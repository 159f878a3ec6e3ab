package compose

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// display is how progress is shown: Docker Compose's --progress, with
// --ansi deciding auto's terminal test.
type display string

// The displays --progress names.
const (
	displayAuto  display = "auto"  // tty on a terminal, plain elsewhere
	displayTTY   display = "tty"   // lines redrawn in place, bars
	displayPlain display = "plain" // one line per change
	displayJSON  display = "json"  // one JSON object per change, Docker Compose's shape
	displayQuiet display = "quiet" // nothing
)

// currentDisplay is the display the root command's flags chose, for the
// command being run; set once per command line, before it runs.
var currentDisplay = displayAuto

// currentDryRun is --dry-run, likewise: plans are shown, not applied.
var currentDryRun bool

// currentParallel is --parallel (COMPOSE_PARALLEL_LIMIT): how many steps
// of a plan run at once; 0 or less: berth's default.
var currentParallel int

// dryRunPrefix starts every progress line of a dry run, as Docker Compose's.
const dryRunPrefix = "DRY-RUN MODE - "

// noDryRun marks, in a command's Annotations, a command that changes the
// host without a plan (it runs a process, copies files, writes the image
// store or credentials): --dry-run refuses it rather than let it act.
const noDryRun = "berth.no-dry-run"

// refuseDryRun marks cmd as noDryRun and returns it.
func refuseDryRun(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[noDryRun] = "true"
	return cmd
}

// parseDisplay reads --progress and --ansi (each defaulting to its
// COMPOSE_ variable) into the display of progress.
func parseDisplay(progress, ansi string) (display, error) {
	d := display(progress)
	switch d {
	case displayAuto, displayTTY, displayPlain, displayJSON, displayQuiet:
	default:
		return "", fmt.Errorf(`--progress %q: must be "auto", "tty", "plain", "json" or "quiet"`, progress)
	}
	switch ansi {
	case "auto":
	case "never":
		if d == displayAuto || d == displayTTY {
			d = displayPlain
		}
	case "always":
		if d == displayAuto {
			d = displayTTY
		}
	default:
		return "", fmt.Errorf(`--ansi %q: must be "never", "always" or "auto"`, ansi)
	}
	return d, nil
}

// resolve is d for output w: auto becomes tty on a terminal, else plain.
func (d display) resolve(w io.Writer) display {
	if d != displayAuto {
		return d
	}
	if isTerminal(w) {
		return displayTTY
	}
	return displayPlain
}

// jsonEvent is one line of --progress json, in Docker Compose's shape.
type jsonEvent struct {
	DryRun   bool   `json:"dry-run,omitempty"`
	ID       string `json:"id,omitempty"`
	ParentID string `json:"parent_id,omitempty"`
	Status   string `json:"status,omitempty"` // "Working", "Done", "Error", "Warning"
	Text     string `json:"text,omitempty"`
	Details  string `json:"details,omitempty"`
	Current  int64  `json:"current,omitempty"`
	Total    int64  `json:"total,omitempty"`
	Percent  int    `json:"percent,omitempty"`
}

func writeJSONEvent(w io.Writer, e jsonEvent) {
	if b, err := json.Marshal(e); err == nil {
		fmt.Fprintln(w, string(b))
	}
}

// envBool reports whether COMPOSE_<name> is set true, as Docker Compose
// reads its boolean variables ("1", "true", "yes", any case).
func envBool(name string) bool {
	switch strings.ToLower(os.Getenv("COMPOSE_" + name)) {
	case "1", "true", "yes", "y", "on":
		return true
	}
	return false
}

// envInt is COMPOSE_<name> as a number, or def when unset or not one.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv("COMPOSE_" + name)); err == nil {
		return n
	}
	return def
}
