package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// stop, start, restart and rm -v as in Docker Compose; a network another
// project still uses survives `down` with a message.
func TestLifecycleCommands(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	shared := fmt.Sprintf("e2eshared%d", rand.IntN(1<<20))
	a := newUser(t, project(t, fmt.Sprintf(`
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    volumes: ["/anon"]
    networks: [net]
networks:
  net:
    name: %s
`, shared)))
	b := newUser(t, project(t, fmt.Sprintf(`
services:
  other:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    networks: [net]
networks:
  net:
    name: %s
    external: true
`, shared)))
	b.env, b.root = a.env, a.root // one host: the same berth
	t.Cleanup(func() {
		b.try("down", "-t", "0")
		a.try("down", "-v", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(a.root))
	})
	a.importBusybox()
	a.run("up", "-d")
	b.run("up", "-d")
	app := a.project + "-app-1"

	a.run("stop")
	if out := a.run("ps", "-a"); !strings.Contains(out, "Exited (0)") {
		t.Fatalf("after stop:\n%s", out)
	}
	a.run("start")
	if out := a.run("ps"); !strings.Contains(out, app) {
		t.Fatalf("after start:\n%s", out)
	}
	a.run("restart", "-t", "1")
	if out := a.run("ps"); !strings.Contains(out, "Up") {
		t.Fatalf("after restart:\n%s", out)
	}

	anon := anonVolumes(t, a)
	if len(anon) != 1 {
		t.Fatalf("want one anonymous volume, have %v", anon)
	}
	if out := a.run("rm", "-f"); !strings.Contains(out, "No stopped containers") {
		t.Fatalf("rm of a running container without -s:\n%s", out)
	}
	a.run("rm", "-f", "-s", "-v")
	if left := anonVolumes(t, a); len(left) != 0 {
		t.Fatalf("rm -v left the anonymous volume: %v", left)
	}

	out := a.run("down")
	if !strings.Contains(out, "Network "+shared+"  Kept") || !strings.Contains(out, b.project+"-other-1") {
		t.Fatalf("down must keep a network another project uses, and say who:\n%s", out)
	}
	if out := b.run("ps"); !strings.Contains(out, b.project+"-other-1") {
		t.Fatalf("the other project's container must keep running:\n%s", out)
	}
	b.run("down", "-t", "0")
	if out := a.run("down"); strings.Contains(out, "Kept") {
		t.Fatalf("once unused the network goes:\n%s", out)
	}
}

// anonVolumes lists the anonymous volume directories of u's berth.
func anonVolumes(t *testing.T, u *user) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(u.root, "volumes"))
	var out []string
	for _, e := range entries {
		if len(e.Name()) == 64 {
			out = append(out, e.Name())
		}
	}
	return out
}

// A container has a real identity: a random 64-hex ID made at its
// creation, shown by ps, whose first 12 digits are its default hostname,
// and a recreated container gets a new one.
func TestContainerIdentity(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "hostname; exec sleep 1000"]
`, "-t", "0")
	u.run("up", "-d")
	id := strings.TrimSpace(u.run("ps", "-q"))
	if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("ps -q: %q is not a 64-hex ID", id)
	}
	if got := strings.TrimSpace(u.run("ps", "--no-trunc", "--format", "{{.ID}}")); got != id {
		t.Fatalf("ps --format {{.ID}} = %q, ps -q = %q", got, id)
	}
	var logs string
	for range 50 {
		if logs = u.run("logs", "app"); strings.Contains(logs, id[:12]) {
			break
		}
		sleep()
	}
	if !strings.Contains(logs, id[:12]) {
		t.Fatalf("the hostname is not the ID's first 12 digits %s:\n%s", id[:12], logs)
	}
	u.run("up", "-d", "--force-recreate", "-t", "0")
	if again := strings.TrimSpace(u.run("ps", "-q")); len(again) != 64 || again == id {
		t.Fatalf("a recreated container must get a new ID: %q, was %q", again, id)
	}
}
