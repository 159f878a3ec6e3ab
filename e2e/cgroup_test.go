package e2e

import (
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// `down` of a root's last project leaves no cgroup parent of the root
// (/sys/fs/cgroup/*/berth_<hash>); while a container runs, it is there.
func TestDownRemovesTheCgroupParent(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  a:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    deploy: {replicas: 2}
`, "-t", "0")
	parents := func() []string {
		v1, _ := filepath.Glob("/sys/fs/cgroup/*/" + engine.HostName(u.root))
		v2, _ := filepath.Glob("/sys/fs/cgroup/" + engine.HostName(u.root))
		return append(v1, v2...)
	}
	u.run("up", "-d")
	if len(parents()) == 0 {
		t.Fatal("no cgroup parent while containers run")
	}
	u.run("rm", "-s", "-f", "a") // both replicas: the root's last containers
	if left := parents(); len(left) != 0 {
		t.Errorf("cgroup parents left after the root's last container went: %v", left)
	}
	u.run("up", "-d")
	u.run("down", "-v", "-t", "0")
	if left := parents(); len(left) != 0 {
		t.Errorf("cgroup parents left after down: %v", left)
	}
}
