package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
