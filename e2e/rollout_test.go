package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// startFirstStack is a web server on host port port answering version,
// replaced start-first, healthy once it serves.
func startFirstStack(port int, version string) string {
	return fmt.Sprintf(`
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo $$VERSION > /www/index.html; exec httpd -f -p 80 -h /www"]
    environment: {VERSION: %s}
    ports: ["127.0.0.1:%d:80"]
    stop_grace_period: 2s
    healthcheck: {test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"], interval: 100ms, retries: 50}
    deploy:
      update_config:
        order: start-first
`, version, port)
}

// freeTCPPort is a loopback TCP port nothing listens on now.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestStartFirstRolloutDropsNoRequest keeps a client sending requests to
// a published port, each on a new connection, while an environment
// change recreates the service start-first: no request fails, the answers
// move from v1 to v2, and one container is left, the new one.
func TestStartFirstRolloutDropsNoRequest(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	port := freeTCPPort(t)
	u := busyboxProject(t, startFirstStack(port, "v1"), "-t", "0")
	u.run("up", "-d", "--wait")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() (string, error) {
		resp, err := client.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %s", resp.Status)
		}
		return strings.TrimSpace(string(b)), err
	}
	if got, err := get(); err != nil || got != "v1" {
		t.Fatalf("before the rollout: %q, %v", got, err)
	}

	ctx, stop := context.WithCancel(context.Background())
	var mu sync.Mutex
	var requests int
	var failures []string
	seen := map[string]int{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			got, err := get()
			mu.Lock()
			requests++
			if err != nil {
				failures = append(failures, err.Error())
			} else {
				seen[got]++
			}
			mu.Unlock()
		}
	}()
	time.Sleep(200 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(startFirstStack(port, "v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := u.run("plan")
	for _, want := range []string{"switch ports of web from " + u.project + "-web-1 to " + u.project + "-web-2", "1 to recreate"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	out := u.run("up", "-d")
	// Right after up: the new container's port rules only, the old
	// container's (shadowed by them, then deleted) gone.
	rules, err := exec.Command("nft", "list", "table", "ip", engine.HostName(u.root)).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list table: %v %s", err, rules)
	}
	if old, now := "berth:owner="+u.project+"-web-1\"", "berth:owner="+u.project+"-web-2\""; strings.Contains(string(rules), old) || strings.Count(string(rules), now) != 2 {
		t.Errorf("after the rollout, want the 2 port rules of web-2 and none of web-1:\n%s", rules)
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()
	t.Logf("%d requests through the rollout, answers %v", requests, seen)
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during the rollout, first: %s\nup:\n%s", len(failures), requests, failures[0], out)
	}
	if seen["v1"] == 0 || seen["v2"] == 0 {
		t.Errorf("answers %v: want v1 then v2", seen)
	}
	if got, err := get(); err != nil || got != "v2" {
		t.Errorf("after the rollout: %q, %v", got, err)
	}
	if ids := strings.Fields(u.run("ps", "-a", "-q")); len(ids) != 1 {
		t.Errorf("containers after the rollout: %v, want one", ids)
	}
	if ps := u.run("ps", "-a"); !strings.Contains(ps, u.project+"-web-2") || strings.Contains(ps, u.project+"-web-1") {
		t.Errorf("ps after the rollout, want the new container only:\n%s", ps)
	}
	if again := u.run("plan"); !strings.Contains(again, "Nothing to do") {
		t.Errorf("after the rollout the plan is not empty:\n%s", again)
	}
	if got := u.run("exec", "web", "cat", "/www/index.html"); strings.TrimSpace(got) != "v2" {
		t.Errorf("exec web: %q", got)
	}
}

// TestStartFirstRolloutDrainsOpenConnections holds a connection to the
// old container open through a start-first rollout: once the ports are
// switched (new connections answer v2), the old container still serves
// the request sent on it, with v1, and is removed only when it is done.
func TestStartFirstRolloutDrainsOpenConnections(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	port := freeTCPPort(t)
	stack := func(version string) string {
		// init: SIGTERM ends httpd at once, so a stop right after the
		// switch would cut the held connection.
		return strings.Replace(strings.Replace(startFirstStack(port, version), "stop_grace_period: 2s", "stop_grace_period: 20s", 1),
			"    image:", "    init: true\n    image:", 1)
	}
	u := busyboxProject(t, stack("v1"), "-t", "0")
	u.run("up", "-d", "--wait")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	held, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	if err := os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(stack("v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	up := u.start("up", "-d")
	up.wait("Container " + u.project + "-web-1  Draining")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.TrimSpace(string(b)); got != "v2" {
		t.Fatalf("a new connection during the drain answers %q, want v2", got)
	}
	time.Sleep(500 * time.Millisecond) // without a drain, the old container would be gone by now
	if ps := u.run("ps", "-a"); !strings.Contains(ps, u.project+"-web-1") {
		t.Fatalf("the old container is gone while a connection to it is open:\n%s", ps)
	}
	held.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(held, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatalf("writing on the held connection: %v", err)
	}
	answer, err := io.ReadAll(held)
	if err != nil || !strings.Contains(string(answer), "200 OK") || !strings.HasSuffix(strings.TrimSpace(string(answer)), "v1") {
		t.Fatalf("the held connection answered %q, %v", answer, err)
	}
	held.Close()
	up.wait("Container " + u.project + "-web-1  Removed")
	up.end("after the old container's removal")
	if ps := u.run("ps", "-a"); strings.Contains(ps, u.project+"-web-1") || !strings.Contains(ps, u.project+"-web-2") {
		t.Errorf("ps after the rollout, want the new container only:\n%s", ps)
	}
}
