package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// create and up --no-start make containers without starting them; up
// starts them; --scale, --no-recreate and --force-recreate are checked
// as Docker Compose does.
func TestCreateWithoutStarting(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	stack := `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    environment: {V: "1"}
  dep:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    depends_on:
      app: {condition: service_healthy}
`
	u := busyboxProject(t, stack, "-t", "0")
	u.run("create", "--scale", "app=2")
	out := u.run("ps", "-a")
	for _, name := range []string{"app-1", "app-2", "dep-1"} {
		if !strings.Contains(out, u.project+"-"+name) {
			t.Fatalf("create did not make %s:\n%s", name, out)
		}
	}
	if strings.Count(out, "Created") != 3 || strings.Contains(out, "Up ") {
		t.Fatalf("create started something, or ps does not say Created:\n%s", out)
	}
	// The healthy condition was not waited for (nothing ran to become
	// healthy), and up --no-start with the same scale has nothing to do.
	if out := u.run("up", "--no-start", "--scale", "app=2"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("up --no-start after create:\n%s", out)
	}
	u.run("up", "-d", "--scale", "app=2", "app")
	if out := u.run("ps"); strings.Count(out, "Up ") != 2 || strings.Contains(out, "dep-1") {
		t.Fatalf("up of app starts its two containers only:\n%s", out)
	}

	if _, err := u.try("create", "--force-recreate", "--no-recreate"); err == nil {
		t.Fatal("--force-recreate with --no-recreate was accepted")
	}
	if out, err := u.try("create", "--scale", "nosuch=2"); err == nil || !strings.Contains(out, "no such service: nosuch") {
		t.Fatalf("--scale of an unknown service: %v\n%s", err, out)
	}
	// --no-recreate keeps a changed container; create without it recreates
	// it, stopped.
	os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(strings.Replace(stack, `V: "1"`, `V: "2"`, 1)), 0o644)
	if out := u.run("create", "--no-recreate", "--scale", "app=2"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("create --no-recreate of a changed service:\n%s", out)
	}
	if out := u.run("plan", "--no-start", "--scale", "app=2"); !strings.Contains(out, "+ create container "+u.project+"-app-1 (environment.V changed)") ||
		strings.Contains(out, "start container") {
		t.Fatalf("the plan of create for a changed service:\n%s", out)
	}
	u.run("create", "--scale", "app=2")
	if out := u.run("ps", "-a", "app"); strings.Count(out, "Created") != 2 {
		t.Fatalf("recreated by create, the containers are created, not started:\n%s", out)
	}
}
