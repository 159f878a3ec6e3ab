package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// pull_policy every_<duration> pulls again once the last pull, recorded
// with the image, is older than the duration.
func TestPullPolicyRefreshWindow(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	host := testutil.Registry(t, nil)
	ref := host + "/lib/fresh:1"
	testutil.PushBusybox(t, ref, []string{"sleep", "1000"}, nil)
	stack := func(policy string) string {
		return "services:\n  app:\n    image: " + ref + "\n    pull_policy: " + policy + "\n"
	}
	u := newUser(t, project(t, stack("every_1h")))
	t.Cleanup(func() {
		u.try("down", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	if out := u.run("plan"); !strings.Contains(out, "pull image "+ref+" (not present)") {
		t.Fatalf("plan before any pull:\n%s", out)
	}
	u.run("up", "-d")
	if out := u.run("plan"); strings.Contains(out, "pull image") {
		t.Fatalf("pulled just now, within every_1h:\n%s", out)
	}
	os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(stack("every_1s")), 0o644)
	time.Sleep(1100 * time.Millisecond) // the window passes (ordering, not a timing assert)
	if out := u.run("plan"); !strings.Contains(out, "pull image "+ref+" (pull_policy refreshes every 1s, and it was pulled ") {
		t.Fatalf("plan once the window passed:\n%s", out)
	}
	if out := u.run("up", "-d"); !strings.Contains(out, "Pulled") {
		t.Fatalf("up once the window passed:\n%s", out)
	}
}
