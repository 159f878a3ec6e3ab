package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// --progress json prints Docker Compose's JSON lines, quiet nothing, and
// COMPOSE_PROGRESS sets the default; a bad value is refused.
func TestProgressModes(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
`, "-t", "0")
	out := u.run("--progress", "json", "up", "-d")
	var started bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct{ ID, Status, Text string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not a JSON line: %q (%v)", line, err)
		}
		started = started || ev.ID == "Container "+u.project+"-app-1" && ev.Status == "Done" && ev.Text == "Started"
	}
	if !started {
		t.Fatalf("no Started event for the container:\n%s", out)
	}
	if out := u.run("--progress", "quiet", "down", "-t", "0"); out != "" {
		t.Fatalf("--progress quiet printed:\n%s", out)
	}
	u.setenv("COMPOSE_PROGRESS=quiet")
	if out := u.run("up", "-d"); out != "" {
		t.Fatalf("COMPOSE_PROGRESS=quiet printed:\n%s", out)
	}
	if out, err := u.try("--progress", "fancy", "ps"); err == nil || !strings.Contains(out, "--progress") {
		t.Fatalf("--progress fancy: %v\n%s", err, out)
	}
}

// COMPOSE_IGNORE_ORPHANS silences the orphan warning; COMPOSE_REMOVE_ORPHANS
// removes them, as the flag does.
func TestOrphanVariables(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	two := "services:\n  a:\n    image: berth-e2e/busybox:1\n    command: [\"sleep\", \"1000\"]\n  b:\n    image: berth-e2e/busybox:1\n    command: [\"sleep\", \"1000\"]\n"
	u := busyboxProject(t, two, "-t", "0", "--remove-orphans")
	u.run("up", "-d")
	os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(strings.SplitN(two, "  b:", 2)[0]), 0o644)
	if out := u.run("up", "-d"); !strings.Contains(out, "orphan") {
		t.Fatalf("no orphan warning:\n%s", out)
	}
	quiet := *u
	quiet.env = append(append([]string{}, u.env...), "COMPOSE_IGNORE_ORPHANS=true")
	if out := quiet.run("up", "-d"); strings.Contains(out, "orphan") {
		t.Fatalf("COMPOSE_IGNORE_ORPHANS=true still warns:\n%s", out)
	}
	remover := *u
	remover.env = append(append([]string{}, u.env...), "COMPOSE_REMOVE_ORPHANS=1")
	remover.run("up", "-d")
	if ps := u.run("ps", "-a"); strings.Contains(ps, u.project+"-b-1") {
		t.Fatalf("COMPOSE_REMOVE_ORPHANS=1 left the orphan:\n%s", ps)
	}
}

// --dry-run shows what a command would do and changes nothing; commands
// that act without a plan refuse it.
func TestDryRun(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, "services:\n  app:\n    image: berth-e2e/busybox:1\n    command: [\"sleep\", \"1000\"]\n", "-t", "0")
	out := u.run("--dry-run", "up", "-d")
	if !strings.Contains(out, "DRY-RUN MODE - Container "+u.project+"-app-1  Started") {
		t.Fatalf("--dry-run up:\n%s", out)
	}
	if ps := u.run("ps", "-a"); strings.Contains(ps, u.project+"-app-1") {
		t.Fatalf("--dry-run up made the container:\n%s", ps)
	}
	if nets := u.run("network", "ls"); strings.Contains(nets, u.project+"_default") {
		t.Fatalf("--dry-run up made the network:\n%s", nets)
	}
	u.run("up", "-d")
	if out := u.run("--dry-run", "down", "-t", "0"); !strings.Contains(out, "DRY-RUN MODE - Container "+u.project+"-app-1  Removed") {
		t.Fatalf("--dry-run down:\n%s", out)
	}
	if ps := u.run("ps"); !strings.Contains(ps, u.project+"-app-1") {
		t.Fatalf("--dry-run down took the container:\n%s", ps)
	}
	if out, err := u.try("--dry-run", "exec", "-T", "app", "true"); err == nil || !strings.Contains(out, "--dry-run") {
		t.Fatalf("--dry-run exec: %v\n%s", err, out)
	}
}
