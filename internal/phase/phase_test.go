package phase

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// With BERTH_PHASES set, each step is one line: pid, subject ("-" for
// none), step, start and duration in nanoseconds.
func TestStepsAreLines(t *testing.T) {
	name := filepath.Join(t.TempDir(), "phases")
	t.Setenv("BERTH_PHASES", name)
	end := Start("p-web-1", "create.network")
	time.Sleep(time.Millisecond)
	end()
	Record("", "command", time.Unix(0, 42), 7)
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q", lines)
	}
	f := strings.Fields(lines[0])
	if d, err := strconv.ParseInt(f[len(f)-1], 10, 64); len(f) != 5 || f[1] != "p-web-1" || f[2] != "create.network" || err != nil || d < int64(time.Millisecond) {
		t.Fatalf("first line: %q", lines[0])
	}
	if want := " - command 42 7"; !strings.HasSuffix(lines[1], want) {
		t.Fatalf("second line %q, want it to end with %q", lines[1], want)
	}
}
