package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// External networks and volumes made with `berth network create` and
// `berth volume create`, `berth port` for an ephemeral port, and `info`.
func TestNetworkVolumePortCommands(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	net := fmt.Sprintf("e2enet%d", rand.IntN(1<<20))
	vol := fmt.Sprintf("e2evol%d", rand.IntN(1<<20))
	u := newUser(t, project(t, fmt.Sprintf(`
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo ext-ok > /www/index.html; exec httpd -f -p 80 -h /www"]
    ports: ["80"]
    stop_grace_period: 1s
    networks: [ext]
    volumes: [shared:/shared]
networks:
  ext:
    external: true
    name: %s
volumes:
  shared:
    external: true
    name: %s
`, net, vol)))
	t.Cleanup(func() {
		u.try("down", "-v", "-t", "0")
		u.try("network", "rm", net)
		u.try("volume", "rm", vol)
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	if out, err := u.try("up", "-d"); err == nil || !strings.Contains(out, net) {
		t.Fatalf("up without the external network must fail naming it:\n%s", out)
	}
	if cs := strings.TrimSpace(u.run("ps", "-a", "-q")); cs != "" {
		t.Fatalf("a failed up made containers: %s", cs)
	}
	u.run("network", "create", net)
	u.run("volume", "create", "--label", "team=e2e", vol)
	u.run("up", "-d")

	hostPort := strings.TrimSpace(u.run("port", "web", "80"))
	if !strings.HasPrefix(hostPort, "0.0.0.0:") {
		t.Fatalf("port: %q", hostPort)
	}
	if resp := testutil.HTTPGet(t, "http://127.0.0.1"+strings.TrimPrefix(hostPort, "0.0.0.0")); resp != "ext-ok" {
		t.Fatalf("the ephemeral port answers %q", resp)
	}
	var nets []map[string]any
	json.Unmarshal([]byte(u.run("network", "inspect", net)), &nets)
	if len(nets) != 1 || len(nets[0]["Containers"].(map[string]any)) != 1 {
		t.Fatalf("network inspect: %v", nets)
	}
	if out, err := u.try("network", "rm", net); err == nil || !strings.Contains(out, "in use") {
		t.Fatalf("rm of a network in use: %v %s", err, out)
	}
	if out, err := u.try("volume", "rm", vol); err == nil || !strings.Contains(out, "in use") {
		t.Fatalf("rm of a volume in use: %v %s", err, out)
	}
	var vols []map[string]any
	json.Unmarshal([]byte(u.run("volume", "inspect", vol)), &vols)
	if len(vols) != 1 || vols[0]["Labels"].(map[string]any)["team"] != "e2e" || vols[0]["Driver"] != "local" {
		t.Fatalf("volume inspect: %v", vols)
	}
	if out := u.run("info"); !strings.Contains(out, "route_localnet: 0 -> 1") {
		t.Fatalf("info does not report the sysctls berth set:\n%s", out)
	}
	u.run("down", "-v")
	if out := u.run("network", "ls"); !strings.Contains(out, net) {
		t.Fatalf("down removed an external network:\n%s", out)
	}
	if out := u.run("volume", "ls", "-q"); !strings.Contains(out, vol) {
		t.Fatalf("down -v removed an external volume:\n%s", out)
	}
	u.run("network", "rm", net)
	u.run("volume", "rm", vol)
}
