package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// project writes a compose file into a fresh directory for u.
func project(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestConfig(t *testing.T) {
	u := newUser(t, project(t, `
services:
  b:
    image: busybox
    environment: {A: "${A:-one}"}
  a:
    image: busybox
volumes:
  v2: {}
  v1: {}
`))
	u.setenv("A=two")
	if out := u.run("config", "--services"); out != "a\nb\n" {
		t.Fatalf("--services: %q", out)
	}
	if out := u.run("config", "--volumes"); out != "v1\nv2\n" {
		t.Fatalf("--volumes: %q", out)
	}
	if out := u.run("config"); !strings.Contains(out, "A: two") || !strings.Contains(out, "name: "+u.project) {
		t.Fatalf("config:\n%s", out)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(u.run("config", "--format", "json")), &doc); err != nil {
		t.Fatalf("config --format json: %v", err)
	}
	hashes := strings.Fields(u.run("config", "--hash", "*"))
	if len(hashes) != 4 || hashes[0] != "a" || hashes[2] != "b" || len(hashes[1]) != 64 || hashes[1] == hashes[3] {
		t.Fatalf("--hash: %v", hashes)
	}
}

func TestInvalidFileNamesFileAndKey(t *testing.T) {
	u := newUser(t, project(t, "services:\n  web:\n    image: busybox\n    helthcheck: {}\n"))
	out, err := u.try("config")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit code 1, got %v\n%s", err, out)
	}
	if !strings.Contains(out, "compose.yaml") || !strings.Contains(out, "helthcheck") {
		t.Fatalf("the error must name the file and the key:\n%s", out)
	}
}

// `up` without -d follows the services' logs with prefixes until
// interrupted, then stops the containers, as Docker Compose does.
func TestAttachedUpStopsOnInterrupt(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := newUser(t, "")
	u.dir = project(t, `
services:
  ticker:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'echo got-term; exit 0' TERM; echo ticker-ready; while true; do sleep 0.1; done"]
`)
	t.Cleanup(func() {
		u.try("down", "-v", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	up := u.start("up")
	up.wait("ticker-1 | ticker-ready")
	up.interrupt()
	if !strings.Contains(strings.Join(up.seen, "\n"), "Container "+u.project+"-ticker-1  Stopped") {
		t.Fatalf("up did not report stopping the container:\n%s", strings.Join(up.seen, "\n"))
	}
	var row map[string]any
	if err := json.Unmarshal([]byte(u.run("ps", "-a", "--format", "json")), &row); err != nil {
		t.Fatal(err)
	}
	if row["State"] != "exited" || row["ExitCode"] != float64(0) {
		t.Fatalf("after Ctrl-C the container must be stopped gracefully: %v", row)
	}
	if out := u.run("logs", "ticker"); !strings.Contains(out, "got-term") {
		t.Fatalf("the container did not get its stop signal:\n%s", out)
	}
	if out := u.run("plan"); !strings.Contains(out, fmt.Sprintf("> start container %s-ticker-1", u.project)) {
		t.Fatalf("a stopped container is started again by up:\n%s", out)
	}
}

// An unknown command or flag is an error (exit code 1) that names it and
// suggests the closest command, at the root and under a group command.
func TestUnknownCommandsAndFlagsExit1(t *testing.T) {
	u := newUser(t, project(t, "services: {}\n"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nosuchcmd"}, `unknown command "nosuchcmd" for "berth"`},
		{[]string{"nettwork"}, "Did you mean this?\n\tnetwork"},
		{[]string{"network", "lss"}, `unknown command "lss" for "berth network"`},
		{[]string{"volume", "nosuch"}, `unknown command "nosuch" for "berth volume"`},
		{[]string{"up", "--nosuch"}, "unknown flag: --nosuch"},
		{[]string{"ps", "-Z"}, "unknown shorthand flag: 'Z'"},
	} {
		out, err := u.try(c.args...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("berth %v: want exit code 1, got %v\n%s", c.args, err, out)
		}
		if !strings.Contains(out, c.want) {
			t.Errorf("berth %v: want %q in:\n%s", c.args, c.want, out)
		}
	}
	if out := u.run("network"); !strings.Contains(out, "Usage:") {
		t.Errorf("bare group command must show its help:\n%s", out)
	}
}
