package e2e

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// down --rmi all removes the services' images once their containers are
// gone; a bad --rmi is refused before anything is taken down.
func TestDownRemovesImages(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
`, "-t", "0")
	u.run("up", "-d")
	if out, err := u.try("down", "--rmi", "some"); err == nil || !strings.Contains(out, `--rmi "some"`) {
		t.Fatalf("down --rmi some: %v\n%s", err, out)
	}
	if ps := u.run("ps"); !strings.Contains(ps, u.project+"-app-1") {
		t.Fatalf("a refused down took the project down:\n%s", ps)
	}
	u.run("down", "-t", "0", "--rmi", "local")
	if imgs := u.run("image", "ls"); !strings.Contains(imgs, "berth-e2e/busybox") {
		t.Fatalf("--rmi local removed a pulled image:\n%s", imgs)
	}
	u.run("up", "-d")
	u.run("down", "-t", "0", "--rmi", "all")
	if imgs := u.run("image", "ls"); strings.Contains(imgs, "berth-e2e/busybox") {
		t.Fatalf("--rmi all left the image:\n%s", imgs)
	}
}
