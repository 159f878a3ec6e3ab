package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// writeStack replaces u's compose file.
func (u *user) writeStack(yaml string) {
	u.t.Helper()
	if err := os.WriteFile(filepath.Join(u.dir, "compose.yaml"), []byte(yaml), 0o644); err != nil {
		u.t.Fatal(err)
	}
}

const logsStack = `
services:
  app:
    image: berth-e2e/busybox:1
    scale: 2
    command: ["sh", "-c", "echo early; echo oops >&2; sleep 2; echo late; trap 'exit 0' TERM; sleep 1000 & wait"]
`

// logs' line selection and layout: --since/--until split the lines at a
// time between them, -n, --index, --no-log-prefix, and stderr lines on
// stderr.
func TestLogsSelect(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := newUser(t, project(t, logsStack))
	t.Cleanup(func() {
		u.try("down", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	u.run("up", "-d")
	app1 := "app-1 | "
	waitFor(t, "both late lines", func() bool { return strings.Count(u.run("logs"), "late") == 2 })
	out := u.run("logs", "-t", "--index", "1", "app")
	var mid string // a time between app-1's early and late lines
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, " early") {
			ts, err := time.Parse(time.RFC3339Nano, strings.Fields(strings.TrimPrefix(l, app1))[0])
			if err != nil {
				t.Fatalf("timestamp of %q: %v", l, err)
			}
			mid = ts.Add(time.Second).Format(time.RFC3339Nano)
		}
	}
	if mid == "" || strings.Contains(out, "app-2") {
		t.Fatalf("logs -t --index 1:\n%s", out)
	}
	stdout, stderr, _ := u.split("", "logs", "--index", "1", "--until", mid)
	if stdout != app1+"early\n" || stderr != app1+"oops\n" {
		t.Errorf("--until %s: stdout %q, stderr %q", mid, stdout, stderr)
	}
	stdout, stderr, _ = u.split("", "logs", "--index", "1", "--since", mid, "--no-log-prefix")
	if stdout != "late\n" || stderr != "" {
		t.Errorf("--since %s --no-log-prefix: stdout %q, stderr %q", mid, stdout, stderr)
	}
	if out := u.run("logs", "-n", "1", "--no-color"); strings.Count(out, "late\n") != 2 || strings.Contains(out, "early") {
		t.Errorf("-n 1:\n%s", out)
	}
	if out := u.run("logs", "--since", "1h", "--index", "2", "app"); !strings.Contains(out, "app-2 | early") || strings.Contains(out, "app-1") {
		t.Errorf("--since 1h --index 2:\n%s", out)
	}
	for _, bad := range [][]string{{"--since", "yesterday"}, {"--index", "9"}, {"-n", "x"}, {"nosuch"}} {
		if out, err := u.try(append([]string{"logs"}, bad...)...); err == nil {
			t.Errorf("logs %v succeeded:\n%s", bad, out)
		}
	}
}

// logs -f follows a container recreated by up and a replica up adds
// while it follows.
func TestLogsFollowRecreated(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	stack := func(gen, scale string) string {
		return `
services:
  keep:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
  app:
    image: berth-e2e/busybox:1
    scale: ` + scale + `
    environment: {GEN: "` + gen + `"}
    command: ["sh", "-c", "echo gen=$$GEN; trap 'exit 0' TERM; sleep 1000 & wait"]
`
	}
	u := newUser(t, project(t, stack("1", "1")))
	t.Cleanup(func() {
		u.try("down", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	u.run("up", "-d")
	f := u.start("logs", "-f", "app")
	f.wait("app-1 | gen=1")
	u.writeStack(stack("2", "1"))
	u.run("up", "-d")
	f.wait("app-1 | gen=2")
	u.writeStack(stack("2", "2"))
	u.run("up", "-d")
	f.wait("app-2 | gen=2")
	f.interrupt()
	if n := strings.Count(strings.Join(f.seen, "\n"), "gen=1"); n != 1 {
		t.Errorf("gen=1 printed %d times:\n%s", n, strings.Join(f.seen, "\n"))
	}
}

// ps: name and service filters, --no-trunc, --orphans=false, the JSON
// keys Docker Compose prints, and an exposed port nothing publishes.
func TestPsLooking(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := newUser(t, project(t, `
services:
  web:
    image: berth-e2e/exposing:1
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    ports: ["127.0.0.1::9000"]
  worker:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait # a long command line"]
`))
	t.Cleanup(func() {
		u.try("down", "-t", "0", "--remove-orphans")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	tar := filepath.Join(t.TempDir(), "busybox.tar")
	if err := os.WriteFile(tar, testutil.BusyboxTar(t), 0o644); err != nil {
		t.Fatal(err)
	}
	u.run("image", "import", "-c", "EXPOSE 8080", "-c", "EXPOSE 9000/tcp", tar, "berth-e2e/exposing:1")
	u.run("up", "-d")
	web, worker := u.project+"-web-1", u.project+"-worker-1"

	if out := u.run("ps", "--format", "{{.Name}}", "--filter", "service=web"); out != web+"\n" {
		t.Errorf("service=web: %q", out)
	}
	if out := u.run("ps", "--format", "{{.Name}}", "--filter", "name=work"); out != worker+"\n" {
		t.Errorf("name=work: %q", out)
	}
	if out := u.run("ps", "--format", "{{.Name}}", "--filter", "name=^nothing$"); out != "" {
		t.Errorf("name=^nothing$: %q", out)
	}
	if out, err := u.try("ps", "--filter", "size=1"); err == nil || !strings.Contains(out, "unknown filter size") {
		t.Errorf("an unknown filter: %v\n%s", err, out)
	}
	if out := u.run("ps", "--format", "{{.Command}}", "worker"); out != `"sh -c trap 'exit 0'…"`+"\n" {
		t.Errorf("truncated command: %q", out)
	}
	if out := u.run("ps", "--no-trunc", "--format", "{{.Command}}", "worker"); !strings.Contains(out, "a long command line") {
		t.Errorf("--no-trunc command: %q", out)
	}

	var row map[string]any
	out := u.run("ps", "--format", "json", "web")
	if err := json.Unmarshal([]byte(out), &row); err != nil {
		t.Fatalf("ps --format json: %v\n%s", err, out)
	}
	var keys []string
	for k := range row {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"Command", "CreatedAt", "Engine", "ExitCode", "Health", "ID", "Image", "Labels", "LocalVolumes", "Mounts",
		"Name", "Names", "Networks", "Ports", "Project", "Publishers", "RunningFor", "Service", "Size", "State", "Status"}
	if !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v, want %v", keys, want)
	}
	if id := row["ID"].(string); len(id) != 12 || row["Networks"] != u.project+"_default" {
		t.Errorf("ID %q, Networks %q", id, row["Networks"])
	}
	pubs, _ := json.Marshal(row["Publishers"])
	port := strings.TrimSpace(u.run("port", "web", "9000"))
	_, hostPort, _ := strings.Cut(port, ":")
	wantPubs := `[{"URL":"","TargetPort":8080,"PublishedPort":0,"Protocol":"tcp"},{"URL":"127.0.0.1","TargetPort":9000,"PublishedPort":` + hostPort + `,"Protocol":"tcp"}]`
	var wantRows any
	json.Unmarshal([]byte(wantPubs), &wantRows)
	if canon, _ := json.Marshal(wantRows); string(pubs) != string(canon) || row["Ports"] != "8080/tcp, 127.0.0.1:"+hostPort+"->9000/tcp" {
		t.Errorf("Publishers %s, want %s; Ports %q", pubs, wantPubs, row["Ports"])
	}

	u.writeStack(`
services:
  web:
    image: berth-e2e/exposing:1
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    ports: ["127.0.0.1::9000"]
`)
	if out := u.run("ps", "--format", "{{.Service}}"); out != "web\nworker\n" {
		t.Errorf("with an orphan: %q", out)
	}
	if out := u.run("ps", "--orphans=false", "--format", "{{.Service}}"); out != "web\n" {
		t.Errorf("--orphans=false: %q", out)
	}
}
