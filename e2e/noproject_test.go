package e2e

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// With -p NAME and no compose file, the commands that need only what
// berth recorded act on the project, as Docker Compose's do from labels;
// those that need the file say so.
func TestProjectWithoutComposeFile(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    scale: 2
volumes:
  data: {}
`, "-v", "-t", "0")
	u.run("up", "-d")
	away := *u
	away.dir = t.TempDir() // no compose file here
	if ps := away.run("ps"); strings.Count(ps, u.project+"-app-") != 2 {
		t.Fatalf("-p ps without the file:\n%s", ps)
	}
	away.run("stop", "-t", "0")
	if ps := away.run("ps", "-a"); strings.Count(ps, "Exited") != 2 {
		t.Fatalf("-p stop without the file:\n%s", ps)
	}
	if out, err := away.try("up", "-d"); err == nil || !strings.Contains(out, "no compose file") {
		t.Fatalf("-p up without the file: %v\n%s", err, out)
	}
	away.run("down")
	if ps := u.run("ps", "-a"); strings.Contains(ps, u.project+"-app-") {
		t.Fatalf("-p down without the file left containers:\n%s", ps)
	}
	if out, err := away.try("-p", "nosuchproject", "ps"); err == nil || !strings.Contains(out, "nothing recorded") {
		t.Fatalf("an unknown project: %v\n%s", err, out)
	}
}
