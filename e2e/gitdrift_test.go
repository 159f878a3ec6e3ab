package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// The git loop repairs what happens to the network behind its back, each
// within one interval: the project's bridge deleted, then berth's
// nftables table flushed. The published port answers again after each,
// /metrics counts the repairs by kind and `reconcile status` the passes.
func TestReconcileGitRepairsNetworkDrift(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	port := freeTCPPort(t)
	stack := fmt.Sprintf(`
services:
  web:
    image: berth-e2e/busybox:1
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo drift-ok > /www/index.html; exec httpd -f -p 80 -h /www"]
    ports: ["127.0.0.1:%d:80"]
`, port)
	u := busyboxProject(t, stack, "-v", "-t", "0")
	origin := gitRepo{t, t.TempDir()}
	origin.git("init", "-q", "-b", "main")
	origin.commit("first", "shop/compose.yaml", stack)
	metricsAddr := freeAddr(t)
	watch := u.start("reconcile", "--watch", "--interval", "300ms", "--git", "file://"+origin.dir, "--ref", "main",
		"--path", "shop", "--metrics", metricsAddr)
	watch.wait("applied: Plan: 0 to pull, 2 to create")
	watch.wait("converged: nothing to do")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if got := testutil.HTTPGet(t, url); got != "drift-ok" {
		t.Fatalf("before: %q", got)
	}

	var bridge string
	for _, l := range strings.Split(u.run("network", "inspect", u.project+"_default"), "\n") {
		if _, b, ok := strings.Cut(l, `"com.docker.network.bridge.name": "`); ok {
			bridge = strings.TrimRight(b, `",`)
		}
	}
	for _, breakIt := range [][]string{{"ip", "link", "del", bridge}, {"nft", "flush", "table", "ip", engine.HostName(u.root)}} {
		if out, err := exec.Command(breakIt[0], breakIt[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", breakIt, err, out)
		}
		watch.wait("applied: Plan: 0 to pull, 1 to create, 1 to recreate")
		watch.wait("converged: nothing to do")
		if got := testutil.HTTPGet(t, url); got != "drift-ok" {
			t.Fatalf("after %v and its repair: %q", breakIt, got)
		}
	}

	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, kind := range []string{"create-network", "create", "remove"} {
		if want := `berth_reconcile_drift_repairs_total{kind="` + kind + `",project="` + u.project + `"} 2`; !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(string(body), "drift"))
		}
	}
	var status []struct {
		DriftRepairs int            `json:"drift_repairs"`
		DriftActions map[string]int `json:"drift_actions"`
	}
	if err := json.Unmarshal([]byte(u.run("reconcile", "status", "--format", "json")), &status); err != nil {
		t.Fatal(err)
	}
	if len(status) != 1 || status[0].DriftRepairs != 2 || status[0].DriftActions["create-network"] != 2 {
		t.Errorf("status: %+v", status)
	}
	watch.interrupt()
}

// grepLines are the lines of s that contain word.
func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
