package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// ipcShmStack is a shareable donor (shm_size 16m) writing a file to its
// /dev/shm and a service joining its IPC that reads it, as gen says.
func ipcShmStack(gen string) string {
	return `
services:
  db:
    image: berth-e2e/busybox:1
    environment: {GEN: "` + gen + `"}
    command: ["sh", "-c", "echo $$GEN >/dev/shm/from-db; echo ipc=$$(readlink /proc/self/ns/ipc); echo probe-done; exec sleep 1000"]
    ipc: shareable
    shm_size: 16m
    stop_grace_period: 1s
  app:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "for i in $$(seq 50); do [ -s /dev/shm/from-db ] && break; sleep 0.1; done; echo got=$$(cat /dev/shm/from-db); df -k /dev/shm | tail -1; echo ipc=$$(readlink /proc/self/ns/ipc); echo probe-done; exec sleep 1000"]
    ipc: service:db
    stop_grace_period: 1s
`
}

// A joiner of a shareable container's IPC shares its /dev/shm too (POSIX
// shared memory, sized by the donor's shm_size), as in Docker; recreating
// the donor recreates the joiner, which then shares the new one; joining
// a private container's IPC is refused with Docker's hint.
func TestSharedIpcShm(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, ipcShmStack("1"), "-t", "0")
	field := func(out, key string) string {
		_, v, _ := strings.Cut(out, key+"=")
		v, _, _ = strings.Cut(v, "\n")
		return v
	}
	check := func(gen string) {
		t.Helper()
		out := inside(u, "db", "app")
		if field(out["app"], "got") != gen || !strings.Contains(out["app"], " 16384 ") {
			t.Errorf("app does not see db's /dev/shm (file %q, 16m):\n%s", gen, out["app"])
		}
		if ipc := field(out["db"], "ipc"); ipc == "" || ipc != field(out["app"], "ipc") {
			t.Errorf("app is not in db's ipc namespace:\ndb: %s\napp: %s", out["db"], out["app"])
		}
	}
	check("1")

	if err := os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(ipcShmStack("2")), 0o644); err != nil {
		t.Fatal(err)
	}
	check("2") // app's ipc and /dev/shm are those of the new db

	if err := os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(`
services:
  plain:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  joiner:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    ipc: service:plain
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := u.try("up", "-d", "--remove-orphans"); err == nil || !strings.Contains(out, "non-shareable IPC (hint: use ipc: shareable for the donor container)") {
		t.Errorf("joining a private container's IPC: %v\n%s", err, out)
	}
	u.run("down", "-t", "0")
	if left, _ := os.ReadDir(filepath.Join(u.runRoot, "shm")); len(left) != 0 {
		t.Errorf("down left /dev/shm directories on the host: %v", left)
	}
}

// Joining the IPC of a service whose ipc is host puts the joiner in the
// host's IPC namespace with the host's /dev/shm, as Docker does.
func TestIpcJoinsHostIpc(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	f, err := os.CreateTemp("/dev/shm", "berth-e2e-ipc-")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() { os.Remove(f.Name()) })
	if err := os.WriteFile(f.Name(), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(f.Name())
	u := busyboxProject(t, `
services:
  hostipc:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo ipc=$$(readlink /proc/self/ns/ipc); echo probe-done; exec sleep 1000"]
    ipc: host
    stop_grace_period: 1s
  joiner:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo got=$$(cat /dev/shm/`+name+`); echo from-joiner >/dev/shm/`+name+`.joiner; echo ipc=$$(readlink /proc/self/ns/ipc); echo probe-done; exec sleep 1000"]
    ipc: service:hostipc
    stop_grace_period: 1s
`, "-t", "0")
	t.Cleanup(func() { os.Remove(f.Name() + ".joiner") })
	hostIpc, err := os.Readlink("/proc/self/ns/ipc")
	if err != nil {
		t.Fatal(err)
	}
	out := inside(u, "hostipc", "joiner")
	for _, s := range []string{"hostipc", "joiner"} {
		if !strings.Contains(out[s], "ipc="+hostIpc+"\n") {
			t.Errorf("%s is not in the host's ipc namespace %s:\n%s", s, hostIpc, out[s])
		}
	}
	if !strings.Contains(out["joiner"], "got=from-host\n") {
		t.Errorf("the joiner does not see the host's /dev/shm:\n%s", out["joiner"])
	}
	if b, err := os.ReadFile(f.Name() + ".joiner"); err != nil || string(b) != "from-joiner\n" {
		t.Errorf("the joiner's /dev/shm write is not on the host: %q, %v", b, err)
	}
}
