package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// fixedStack is a web server at a fixed address on its own network,
// published on host port port, answering $VERSION and what the first
// version wrote into its named volume.
func fixedStack(subnet string, port int) string {
	return fmt.Sprintf(`
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "mkdir -p /www && [ -e /data/first ] || echo $$VERSION > /data/first; echo $$VERSION $$(cat /data/first) > /www/index.html; exec httpd -f -p 80 -h /www"]
    environment: {VERSION: "${VERSION:-v1}"}
    ports: ["127.0.0.1:%d:80"]
    volumes: [data:/data]
    networks:
      front: {ipv4_address: %s.10}
networks:
  front:
    ipam: {config: [{subnet: %s.0/24}]}
volumes:
  data: {}
`, port, subnet, subnet)
}

// answers waits (at most 10 s) until url answers want.
func answers(t *testing.T, url, want string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); sleep() {
		resp, err := client.Get(url)
		if err != nil {
			got = err.Error()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got = strings.TrimSpace(string(b)); got == want {
			return
		}
	}
	t.Fatalf("%s answers %q, want %q", url, got, want)
}

// TestStopFirstRecreateKeepsAddressPortAndData recreates a service with
// a fixed ipv4_address, a published port and a named volume (up -d -t 0
// after a change): the new container answers on the published port and at
// the same address, with the volume's data of the first; then a recreate
// killed after each of its host changes is repaired by the next up, and
// the data is still there.
func TestStopFirstRecreateKeepsAddressPortAndData(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	subnet := fmt.Sprintf("10.%d.%d", 200+rand.IntN(50), rand.IntN(256))
	port := freeTCPPort(t)
	u := busyboxProject(t, fixedStack(subnet, port), "-v", "-t", "0")
	published, fixed := fmt.Sprintf("http://127.0.0.1:%d/", port), fmt.Sprintf("http://%s.10/", subnet)
	u.run("up", "-d")
	answers(t, published, "v1 v1")
	answers(t, fixed, "v1 v1")

	u.setenv("VERSION=v2")
	if out := u.run("up", "-d", "-t", "0"); !strings.Contains(out, "Started") {
		t.Fatalf("up after the change:\n%s", out)
	}
	answers(t, published, "v2 v1")
	answers(t, fixed, "v2 v1")
	if out := u.run("ps", "-a", "-q"); len(strings.Fields(out)) != 1 {
		t.Fatalf("want one container, the new one:\n%s", out)
	}

	for n := 1; ; n++ {
		version := fmt.Sprintf("v%d", n+2)
		u.setenv("VERSION=" + version)
		killed := u.killedAt(n, "up", "-d", "-t", "0")
		u.run("up", "-d", "-t", "0")
		if out := u.run("plan"); strings.Contains(out, "container") {
			t.Fatalf("recreate killed at %d: up did not converge, it would still do:\n%s", n, out)
		}
		answers(t, published, version+" v1")
		answers(t, fixed, version+" v1")
		if !killed {
			if n == 1 {
				t.Fatal("the kill hook killed nothing")
			}
			t.Logf("%d kill points in a recreate, each repaired by the next up", n-1)
			break
		}
	}
}
