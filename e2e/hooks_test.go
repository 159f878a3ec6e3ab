package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// post_start runs in the container after its start with the hook's user,
// working directory and environment; pre_stop runs while it still runs,
// before the stop; a failing hook fails the step, as in Compose.
func TestLifecycleHooks(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	u := busyboxProject(t, `
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    volumes: [`+shared+`:/shared]
    post_start:
      - command: ["sh", "-c", "echo \"$$(id -u) $$(pwd) $$GREETING\" > /shared/started"]
        user: "65534"
        working_dir: /tmp
        environment:
          GREETING: hello
    pre_stop:
      - command: ["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' ' > /shared/stopping"]
  broken:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    profiles: [broken]
    post_start:
      - command: ["sh", "-c", "exit 3"]
`, "-t", "0")
	u.run("up", "-d")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(shared, name))
		if err != nil {
			t.Fatalf("the hook wrote no %s: %v", name, err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := read("started"); got != "65534 /tmp hello" {
		t.Errorf("post_start wrote %q, want its user, working directory and environment", got)
	}
	u.run("stop", "web")
	if got := read("stopping"); got != "sleep 1000" {
		t.Errorf("pre_stop saw the init %q, want it still running", got)
	}
	out, err := u.try("--profile", "broken", "up", "-d", "broken")
	if err == nil || !strings.Contains(out, "post_start hook of "+u.project+"-broken-1 exited with status 3") {
		t.Errorf("a failing post_start hook: %v\n%s", err, out)
	}
}
