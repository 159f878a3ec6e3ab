package e2e

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// Progress and status lines go to stderr, as Docker Compose writes them,
// so stdout holds only what was asked for; COMPOSE_STATUS_STDOUT=1 moves
// them to stdout.
func TestProgressGoesToStderr(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, "services:\n  app:\n    image: berth-e2e/busybox:1\n    command: [sleep, '1000']\n", "-t", "0")
	split := func(env []string, args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(u.bin, append([]string{"-p", u.project}, args...)...)
		cmd.Dir, cmd.Env = u.dir, append(append([]string{}, u.env...), env...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, out.String(), errOut.String())
		}
		return out.String(), errOut.String()
	}
	out, errOut := split(nil, "up", "-d")
	if out != "" || !strings.Contains(errOut, "Started") {
		t.Errorf("up -d: stdout %q, stderr %q; want the progress on stderr only", out, errOut)
	}
	out, _ = split(nil, "ps", "--format", "{{.Service}}")
	if out != "app\n" {
		t.Errorf("ps: stdout %q", out)
	}
	out, errOut = split([]string{"COMPOSE_STATUS_STDOUT=1"}, "stop", "-t", "0")
	if !strings.Contains(out, "Stopped") || errOut != "" {
		t.Errorf("stop with COMPOSE_STATUS_STDOUT=1: stdout %q, stderr %q", out, errOut)
	}
}
