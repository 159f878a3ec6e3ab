package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

func TestHelloExample(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	dir := filepath.Join(repoRoot(t), "examples", "hello")
	u := newUser(t, dir)
	port := testutil.FreePort(t)
	u.setenv(fmt.Sprintf("HELLO_PORT=%d", port))
	t.Cleanup(func() {
		u.try("down", "-v", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})

	build := exec.Command(filepath.Join(dir, "build-images.sh"), u.bin)
	build.Env = u.env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example's images: %v\n%s", err, out)
	}

	u.run("up", "-d")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if got := testutil.HTTPGet(t, url); !strings.Contains(got, "Hello from berth! You are visitor 1 ") {
		t.Fatalf("first visit: %q", got)
	}
	if got := testutil.HTTPGet(t, url); !strings.Contains(got, "visitor 2 ") {
		t.Fatalf("second visit: %q", got)
	}

	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(u.run("ps", "--format", "json")), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("ps --format json line %q: %v", line, err)
		}
		rows = append(rows, row)
	}
	if len(rows) != 2 || rows[0]["Name"] != u.project+"-counter-1" || rows[0]["State"] != "running" || rows[1]["Service"] != "web" || rows[1]["Command"] != `"/web"` {
		t.Fatalf("ps: %v", rows)
	}

	if out := u.run("plan"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("a second plan is not empty:\n%s", out)
	}
	if out := u.run("up", "-d"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("a second up did something:\n%s", out)
	}
	if out := u.run("logs", "counter"); !strings.Contains(out, "counter-1 | ") || !strings.Contains(out, "counter listening on :9000") {
		t.Fatalf("logs:\n%s", out)
	}

	u.setenv("GREETING=Hi")
	if out := u.run("plan"); !strings.Contains(out, "+ create container "+u.project+"-web-1 (environment.GREETING changed)") ||
		!strings.Contains(out, "1 to recreate") ||
		strings.Contains(out, "counter-1 (") {
		t.Fatalf("changing web's environment must recreate web only:\n%s", out)
	}
	u.run("up", "-d")
	if got := testutil.HTTPGet(t, url); !strings.HasPrefix(got, "Hi! You are visitor 3 ") {
		t.Fatalf("after recreate: %q", got)
	}

	u.run("down")
	u.run("up", "-d")
	if got := testutil.HTTPGet(t, url); !strings.Contains(got, "visitor 4 ") {
		t.Fatalf("the named volume lost its count across down/up: %q", got)
	}
	u.run("down", "web")
	if out := strings.TrimSpace(u.run("ps", "--services")); out != "counter" {
		t.Fatalf("down web must leave counter running, ps shows %q", out)
	}
	u.run("down", "-v")
	vols, _ := os.ReadDir(filepath.Join(u.root, "volumes"))
	for _, v := range vols {
		t.Errorf("down -v left volume %s", v.Name())
	}
}
