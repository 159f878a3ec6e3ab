package e2e

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// failsWith runs berth args, wanting exit code 1 and every one of wants in its output.
func (u *user) failsWith(wants []string, args ...string) string {
	u.t.Helper()
	out, err := u.try(args...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		u.t.Fatalf("berth %s: want exit code 1, got %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			u.t.Errorf("berth %s: output lacks %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

// nothingMade fails t if u's project has any container or network.
func (u *user) nothingMade() {
	u.t.Helper()
	if cs := strings.TrimSpace(u.run("ps", "-a", "-q")); cs != "" {
		u.t.Errorf("a refused up made containers: %s", cs)
	}
	if ns := u.run("network", "ls"); strings.Contains(ns, " "+u.project+"_") {
		u.t.Errorf("a refused up made networks:\n%s", ns)
	}
}

// A host port bound by a host process, on an address the published one
// overlaps, refuses `up` before anything is made (TCP and UDP).
func TestUpRefusesAPortTheHostHolds(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	tcpPort := testutil.FreePort(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	udpPort := udp.LocalAddr().(*net.UDPAddr).Port
	u := busyboxProject(t, fmt.Sprintf(`
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sleep", "100"]
    ports: ["%d:8080"]
  dns:
    image: berth-e2e/busybox:1
    command: ["sleep", "100"]
    ports: ["%d:53/udp"]
`, tcpPort, udpPort), "-t", "0")
	out := u.failsWith([]string{
		fmt.Sprintf("Bind for 0.0.0.0:%d failed", tcpPort), fmt.Sprintf("Bind for 0.0.0.0:%d failed", udpPort),
		"address already in use", `service "web"`, `service "dns"`, "e2e.test", // the holder: this test's process
	}, "up", "-d")
	t.Log(out)
	u.nothingMade()
}

// Two projects whose container names collide (web-app + db, web + app-db)
// or that publish one host port: the second `up` is refused, naming the
// first's container, and the first project is untouched.
func TestUpRefusesAnotherProjectsNameAndPort(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	port := testutil.FreePort(t)
	first := busyboxProject(t, fmt.Sprintf(`
services:
  db:
    image: berth-e2e/busybox:1
    command: ["sleep", "100"]
    ports: ["%d:80"]
`, port), "-t", "0")
	first.project = "web-app"
	first.run("up", "-d")
	id := strings.TrimSpace(first.run("ps", "-q", "--no-trunc"))
	second := *first
	second.dir = project(t, `
services:
  app-db:
    image: berth-e2e/busybox:1
    command: ["sleep", "100"]
`)
	second.project = "web"
	second.failsWith([]string{`container name "/web-app-db-1" is already in use by container "` + id, `project "web-app"`, `service "app-db"`}, "up", "-d")
	second.nothingMade()
	third := second
	third.dir = project(t, fmt.Sprintf(`
services:
  api:
    image: berth-e2e/busybox:1
    command: ["sleep", "100"]
    ports: ["127.0.0.1:%d:80"]
`, port))
	third.project = "other"
	third.failsWith([]string{fmt.Sprintf("Bind for 127.0.0.1:%d failed: port is already allocated", port), "web-app-db-1", `service "api"`}, "up", "-d")
	third.nothingMade()
	if after := strings.TrimSpace(first.run("ps", "-q", "--no-trunc", "--status", "running")); after != id {
		t.Errorf("the first project's container changed: %q, was %q", after, id)
	}
	first.run("up", "-d") // still converged: plans nothing, fails nothing
}

// A bridge name (com.docker.network.bridge.name) naming a bridge berth
// did not make is refused, and the bridge keeps its address through
// `up` and `down`.
func TestUpRefusesAHostBridge(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	br := fmt.Sprintf("brhost%d", rand.IntN(1<<20))
	addr := fmt.Sprintf("10.%d.%d.1/24", 100+rand.IntN(50), rand.IntN(256))
	for _, args := range [][]string{{"link", "add", br, "type", "bridge"}, {"addr", "add", addr, "dev", br}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", br).Run() })
	u := busyboxProject(t, fmt.Sprintf(`
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sleep", "100"]
networks:
  default:
    driver_opts:
      com.docker.network.bridge.name: %s
`, br), "-t", "0")
	u.failsWith([]string{"bridge name " + `"` + br + `"`, "berth did not create", "network " + u.project + "_default"}, "up", "-d")
	u.nothingMade()
	u.run("down")
	out, err := exec.Command("ip", "-o", "addr", "show", "dev", br).CombinedOutput()
	if err != nil || !strings.Contains(string(out), addr) {
		t.Errorf("the host bridge lost its address or was deleted: %v %s", err, out)
	}
}
