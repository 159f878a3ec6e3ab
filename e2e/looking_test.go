package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
	u := busyboxProject(t, logsStack, "-t", "0")
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

// logs -f follows a container recreated by up (the project's only one,
// so that for a moment none runs) and a replica up adds while it follows.
func TestLogsFollowRecreated(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	stack := func(gen, scale string) string {
		return `
services:
  app:
    image: berth-e2e/busybox:1
    scale: ` + scale + `
    environment: {GEN: "` + gen + `"}
    command: ["sh", "-c", "echo gen=$$GEN; trap 'exit 0' TERM; sleep 1000 & wait"]
`
	}
	u := busyboxProject(t, stack("1", "1"), "-t", "0")
	u.run("create")
	if out := u.run("logs", "-f"); out != "" { // nothing ran: nothing to follow
		t.Errorf("logs -f of created containers: %q", out)
	}
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
	u := busyboxProject(t, `
services:
  web:
    image: berth-e2e/exposing:1
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    ports: ["127.0.0.1::9000"]
    expose: ["7000-7001/udp"]
  worker:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait # a long command line"]
`, "-t", "0", "--remove-orphans")
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
	wantPubs := `[{"URL":"","TargetPort":7000,"PublishedPort":0,"Protocol":"udp"},{"URL":"","TargetPort":7001,"PublishedPort":0,"Protocol":"udp"},{"URL":"","TargetPort":8080,"PublishedPort":0,"Protocol":"tcp"},{"URL":"127.0.0.1","TargetPort":9000,"PublishedPort":` + hostPort + `,"Protocol":"tcp"}]`
	var wantRows any
	json.Unmarshal([]byte(wantPubs), &wantRows)
	if canon, _ := json.Marshal(wantRows); string(pubs) != string(canon) || row["Ports"] != "7000-7001/udp, 8080/tcp, 127.0.0.1:"+hostPort+"->9000/tcp" {
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

// configStack uses a required and a defaulted variable, an escaped
// dollar, profiles, networks and a volume.
const configStack = `
services:
  web:
    image: busybox:${TAG:-1.36}
    environment:
      GREETING: "${GREETING?say hello}"
      PRICE: "$$5"
    networks: [front]
  db:
    image: postgres
    networks: [back]
    volumes: [data:/data]
  tool:
    image: alpine
    profiles: [tools, debug]
networks:
  back: {}
  front: {}
volumes:
  data: {}
`

// config's listings and renderings, each against what Docker Compose
// prints for the same file.
func TestConfigLooking(t *testing.T) {
	u := newUser(t, project(t, configStack))
	u.setenv("GREETING=hi")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--profiles"}, "debug\ntools\n"},
		{[]string{"--images"}, "postgres\nbusybox:1.36\n"},
		{[]string{"--networks"}, "back\ndefault\nfront\n"}, // compose-go adds default: tool, disabled, is on it
		{[]string{"--volumes"}, "data\n"},
		{[]string{"--services"}, "db\nweb\n"},
		{[]string{"--quiet"}, ""},
		{[]string{"--variables"}, "NAME                REQUIRED            DEFAULT VALUE       ALTERNATE VALUE\n" +
			"GREETING            true                                    \n" +
			"TAG                 false               1.36                \n"},
	} {
		if stdout, stderr, code := u.split("", append([]string{"config"}, c.args...)...); stdout != c.want || code != 0 {
			t.Errorf("config %v: exit %d, stdout %q, want %q; stderr %q", c.args, code, stdout, c.want, stderr)
		}
	}
	if out := u.run("config", "--environment"); !strings.Contains(out, "\nGREETING=hi\n") || strings.Contains(out, "TAG=") {
		t.Errorf("--environment lacks GREETING=hi or has TAG:\n%s", out)
	}
	plain := u.run("config")
	if !strings.Contains(plain, "image: busybox:1.36") || !strings.Contains(plain, "PRICE: $$5") || !strings.Contains(plain, "name: "+u.project+"_back") {
		t.Errorf("config:\n%s", plain)
	}
	if out := u.run("config", "--no-interpolate"); !strings.Contains(out, "image: busybox:${TAG:-1.36}") || !strings.Contains(out, "GREETING: ${GREETING?say hello}") {
		t.Errorf("--no-interpolate:\n%s", out)
	}
	if out := u.run("config", "--no-normalize"); !strings.Contains(out, "image: busybox:1.36") || strings.Contains(out, "name: "+u.project+"_back") || !strings.Contains(out, "  back: {}") {
		t.Errorf("--no-normalize:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "out.yaml")
	if out := u.run("config", "-o", file); out != "" {
		t.Errorf("-o printed %q", out)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != plain {
		t.Errorf("-o wrote %q (%v), want what config prints", b, err)
	}
	hashes := u.run("config", "--hash", "web,db")
	if lines := strings.Fields(hashes); len(lines) != 4 || lines[0] != "db" || lines[2] != "web" || !strings.Contains(u.run("config", "--hash", "*"), hashes) {
		t.Errorf("--hash web,db: %q", hashes)
	}
	if out, err := u.try("config", "--hash", "nosuch"); err == nil || !strings.Contains(out, "no such service: nosuch") {
		t.Errorf("--hash nosuch: %v %q", err, out)
	}
	u.env = slices.DeleteFunc(u.env, func(kv string) bool { return strings.HasPrefix(kv, "GREETING=") })
	if stdout, stderr, code := u.split("", "config", "-q"); code != 1 || stdout != "" || !strings.Contains(stderr, "say hello") {
		t.Errorf("config -q without GREETING: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// config --resolve-image-digests pins an image berth pushed or pulled to
// its registry digest, and refuses one that is not local or has none.
func TestConfigResolveImageDigests(t *testing.T) {
	testutil.RequiresRoot(t)
	remote := testutil.Registry(t, nil) + "/e2e/busybox:1"
	u := newUser(t, project(t, "services:\n  app:\n    image: "+remote+"\n"))
	if out, err := u.try("config", "--resolve-image-digests"); err == nil || !strings.Contains(out, "not present locally") {
		t.Errorf("an image not local: %v\n%s", err, out)
	}
	u.importBusybox()
	u.run("image", "tag", "berth-e2e/busybox:1", remote)
	if out, err := u.try("config", "--resolve-image-digests"); err == nil || !strings.Contains(out, "has no registry digest") {
		t.Errorf("an image never pushed: %v\n%s", err, out)
	}
	u.run("image", "push", remote)
	var inspect []struct{ RepoDigests []string }
	if err := json.Unmarshal([]byte(u.run("image", "inspect", remote)), &inspect); err != nil || len(inspect) != 1 || len(inspect[0].RepoDigests) != 1 {
		t.Fatalf("image inspect: %v %v", err, inspect)
	}
	_, digest, _ := strings.Cut(inspect[0].RepoDigests[0], "@")
	want := "image: " + remote + "@" + digest
	if out := u.run("config", "--resolve-image-digests"); !strings.Contains(out, want+"\n") {
		t.Errorf("want %q in:\n%s", want, out)
	}
	if out := u.run("config", "--resolve-image-digests", "--no-interpolate"); !strings.Contains(out, want+"\n") {
		t.Errorf("--no-interpolate: want %q in:\n%s", want, out)
	}
}
