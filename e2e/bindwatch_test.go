package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// A change of a file under a read-only bind declared in x-berth-watch
// makes up restart exactly the service that declares it, with the reason:
// the same container (its ID kept), whose process started again reads the
// new content; the next plan is empty.
func TestWatchedBindContentChange(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "cp /etc/app/app.conf /tmp/seen; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    volumes: ["./conf:/etc/app:ro"]
    x-berth-watch: [./conf]
  other:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    volumes: ["./conf:/etc/app:ro"]
`, "-t", "0")
	conf := filepath.Join(u.dir, "conf", "app.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("v=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u.run("up", "-d")
	id := func(service string) string {
		return u.run("inspect", "-f", "{{.Id}}", u.project+"-"+service+"-1")
	}
	web, other := id("web"), id("other")
	pid := u.run("inspect", "-f", "{{.State.Pid}}", u.project+"-web-1")
	if out := u.run("plan"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("plan before the change:\n%s", out)
	}

	if err := os.WriteFile(conf, []byte("v=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := u.run("plan")
	if !strings.Contains(plan, "> start container "+u.project+"-web-1 (bind ./conf: content changed)") ||
		!strings.Contains(plan, "~ record contents of "+u.project+"-web-1 (bind ./conf: content changed)") ||
		strings.Contains(plan, "create container") || strings.Contains(plan, u.project+"-other-1") {
		t.Fatalf("plan after the change:\n%s", plan)
	}
	u.run("up", "-d")
	if id("web") != web {
		t.Error("web was recreated, not restarted")
	}
	if now := u.run("inspect", "-f", "{{.State.Pid}}", u.project+"-web-1"); now == pid {
		t.Errorf("web's process was not started again (pid %s)", now)
	}
	if id("other") != other {
		t.Error("other, which does not watch ./conf, was recreated")
	}
	if got := u.run("exec", "web", "cat", "/tmp/seen"); !strings.Contains(got, "v=2") {
		t.Errorf("web's process started with %q", got)
	}
	if out := u.run("plan"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("plan after up:\n%s", out)
	}
}
