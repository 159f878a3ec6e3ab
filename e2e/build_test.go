package e2e

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// buildProject is a user with stack yaml (REGISTRY in it standing for the
// in-process registry) whose Dockerfiles can start FROM base, an image of
// that registry; the project and its images are removed after the test.
func buildProject(t *testing.T, yaml string) (u *user, dir, base string) {
	t.Helper()
	host := testutil.Registry(t, nil)
	base = host + "/lib/base:1"
	testutil.PushBusybox(t, base, []string{"sh"}, nil)
	dir = project(t, strings.ReplaceAll(yaml, "REGISTRY", host))
	u = newUser(t, dir)
	t.Cleanup(func() {
		u.try("down", "-t", "0", "--rmi", "all")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	return u, dir, base
}

// builtStack is a user whose stack has a service built from web/Dockerfile
// (BASE in it standing for an image of the in-process registry) and one
// pulled from that registry.
func builtStack(t *testing.T, dockerfile string) (*user, string) {
	t.Helper()
	u, dir, base := buildProject(t, `
services:
  web:
    build: ./web
  db:
    image: REGISTRY/lib/db:1
`)
	testutil.PushBusybox(t, strings.TrimSuffix(base, "/base:1")+"/db:1", []string{"sleep", "1000"}, nil)
	writeFile(t, filepath.Join(dir, "web", "Dockerfile"), strings.ReplaceAll(dockerfile, "BASE", base), 0, 0)
	return u, dir
}

// up of a stack with one built and one pulled service; plan shows the
// build with its reason; an edited Dockerfile is rebuilt by up --build,
// which recreates only the built service, with the reason.
func TestBuildUp(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	const dockerfile = `FROM BASE
RUN grep -q eth0 /proc/net/dev && echo one > /built
CMD ["sleep", "1000"]
`
	u, dir := builtStack(t, dockerfile)
	image := u.project + "-web"
	if out := u.run("plan"); !strings.Contains(out, "+ build image "+image+" (no image yet)") || !strings.Contains(out, "↓ pull image") {
		t.Fatalf("plan of a fresh stack:\n%s", out)
	}
	out := u.run("up", "-d")
	if !regexp.MustCompile(`#\d+ \[web\] DONE`).MatchString(out) || !strings.Contains(out, "Image "+image+"  Built") {
		t.Fatalf("up -d shows no build steps:\n%s", out)
	}
	if got := u.run("exec", "-T", "web", "cat", "/built"); strings.TrimSpace(got) != "one" {
		t.Fatalf("the built image has /built = %q (RUN had no network interface?)", got)
	}
	if out := u.run("plan"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("second plan:\n%s", out)
	}

	df := filepath.Join(dir, "web", "Dockerfile")
	was, err := os.ReadFile(df)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, df, strings.Replace(string(was), "echo one", "echo two", 1), 0, 0)
	if out := u.run("plan"); !strings.Contains(out, "image "+image+" was built from other inputs (Dockerfile changed)") || !strings.Contains(out, "Nothing to do") {
		t.Fatalf("plan after an edit, without --build:\n%s", out)
	}
	if out := u.run("plan", "--build"); !strings.Contains(out, "+ build image "+image+" (Dockerfile changed)") ||
		!strings.Contains(out, "+ create container "+u.project+"-web-1 (image rebuilt)") || strings.Contains(out, "db-1") {
		t.Fatalf("plan --build after an edit:\n%s", out)
	}
	out = u.run("up", "-d", "--build")
	if strings.Contains(out, "db-1") || !strings.Contains(out, "Container "+u.project+"-web-1  Started") {
		t.Fatalf("up --build must recreate web only:\n%s", out)
	}
	if got := u.run("exec", "-T", "web", "cat", "/built"); strings.TrimSpace(got) != "two" {
		t.Fatalf("after up --build, /built = %q", got)
	}
}

// berth build twice: the second is all CACHED; --no-cache runs the steps.
func TestBuildCommandCaches(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u, dir := builtStack(t, "FROM BASE\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\nENV A=1\n")
	writeFile(t, filepath.Join(dir, "web", "hello.txt"), "hello from the context\n", 0, 0)
	done := regexp.MustCompile(`#\d+ \[web\] DONE`)
	first := u.run("build")
	if !done.MatchString(first) || !strings.Contains(first, "hello from the context") {
		t.Fatalf("first build:\n%s", first)
	}
	start := time.Now()
	second := u.run("build")
	t.Logf("a fully cached berth build (the whole command) took %s", time.Since(start))
	if ran := ranSteps(second); len(ran) > 0 || strings.Count(second, "CACHED") != 3 {
		t.Fatalf("second build is not all CACHED:\n%s", second)
	}
	if out := u.run("build", "--no-cache", "-q"); out != "" {
		t.Fatalf("build -q printed:\n%s", out)
	}
	if out := u.run("build", "--no-cache", "web"); strings.Contains(out, "CACHED") || len(ranSteps(out)) != 3 {
		t.Fatalf("build --no-cache used the cache:\n%s", out)
	}
	if out, err := u.try("build", "nope"); err == nil || !strings.Contains(out, "nope") {
		t.Fatalf("build of an unknown service: %v\n%s", err, out)
	}
}

// ranSteps are the instructions (FROM aside) a build's output shows run
// rather than CACHED.
func ranSteps(out string) []string {
	text := map[string]string{}
	var ran []string
	for _, m := range regexp.MustCompile(`(?m)^#(\d+) \[web\] (.*)$`).FindAllStringSubmatch(out, -1) {
		if _, ok := text[m[1]]; !ok {
			text[m[1]] = m[2]
		} else if strings.HasPrefix(m[2], "DONE") && !strings.HasPrefix(text[m[1]], "FROM") {
			ran = append(ran, text[m[1]])
		}
	}
	return ran
}

// A Dockerfile syntax error: exit 1 naming the Dockerfile and line, and
// nothing made.
func TestBuildSyntaxError(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u, dir := builtStack(t, "FROM BASE\nRUN true\nNOTANINSTRUCTION foo\n")
	_, errs, code := u.split("", "up", "-d")
	want := filepath.Join(dir, "web", "Dockerfile") + ":3"
	if code != 1 || !strings.Contains(errs, want) {
		t.Fatalf("up with a bad Dockerfile: exit %d, want 1 naming %s:\n%s", code, want, errs)
	}
	if out := u.run("ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("containers left after a failed build:\n%s", out)
	}
	if out := u.run("image", "ls"); strings.Contains(out, u.project+"-web") {
		t.Fatalf("an image was tagged after a failed build:\n%s", out)
	}
}

// RUN's network: by default an address on the service's network, with
// egress (to the host, by the build's extra_hosts host-gateway); with
// network: host the host's own; with none, loopback only.
func TestBuildRunNetworks(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello-egress\n") })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)

	u, dir, base := buildProject(t, `
services:
  bridged:
    build:
      context: ./ctx
      extra_hosts: ["host.test:host-gateway"]
  hostnet:
    build:
      context: ./ctx
      dockerfile: Host.Dockerfile
      network: host
  nonet:
    build:
      context: ./ctx
      dockerfile: None.Dockerfile
      network: none
`)
	from := "FROM " + base + "\n"
	writeFile(t, filepath.Join(dir, "ctx", "Dockerfile"), from+"RUN timeout 10 wget -qO- http://host.test:"+port+"/\n", 0, 0)
	writeFile(t, filepath.Join(dir, "ctx", "Host.Dockerfile"), from+"RUN timeout 10 wget -qO- http://127.0.0.1:"+port+"/\n", 0, 0)
	writeFile(t, filepath.Join(dir, "ctx", "None.Dockerfile"), from+"RUN cat /proc/net/dev; if grep -q eth0 /proc/net/dev; then exit 1; fi; echo loopback-only\n", 0, 0)
	out := u.run("--progress", "plain", "build")
	if strings.Count(out, "hello-egress") != 2 || !strings.Contains(out, "loopback-only") {
		t.Fatalf("build output:\n%s", out)
	}
}

// The build section's args, target, labels and tags reach the image.
func TestBuildSectionKeys(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u, dir, base := buildProject(t, `
services:
  web:
    image: berth-e2e/web:1
    build:
      context: ./ctx
      target: final
      args: {GREETING: hello-arg}
      labels: {org.example.team: webteam}
      tags: [berth-e2e/web:extra]
      secrets: [token]
    command: ["cat", "/greeting"]
secrets:
  token:
    file: ./token.txt
`)
	writeFile(t, filepath.Join(dir, "token.txt"), "s3cret-token\n", 0, 0)
	writeFile(t, filepath.Join(dir, "ctx", "Dockerfile"), "FROM "+base+" AS final\nARG GREETING\nRUN echo $GREETING > /greeting\nRUN --mount=type=secret,id=token cat /run/secrets/token\nFROM final AS unused\nRUN exit 1\n", 0, 0)
	t.Cleanup(func() { u.try("image", "rm", "berth-e2e/web:extra") })
	if out := u.run("--progress", "plain", "build"); !strings.Contains(out, "s3cret-token") {
		t.Fatalf("the build secret was not readable by RUN:\n%s", out)
	}
	if out := u.run("image", "inspect", "berth-e2e/web:1"); !strings.Contains(out, `"org.example.team": "webteam"`) {
		t.Fatalf("image inspect shows no build label:\n%s", out)
	}
	ls := u.run("image", "ls")
	if !strings.Contains(ls, "extra") || strings.Contains(ls, "<none>") {
		t.Fatalf("image ls after a build with tags and labels:\n%s", ls)
	}
	u.run("up", "-d")
	if out := u.run("logs", "--no-log-prefix", "web"); !strings.Contains(out, "hello-arg") {
		t.Fatalf("the build arg did not reach RUN: %q", out)
	}
}

// additional_contexts: a directory COPY --from reads, and another built
// service's image FROM starts with (built first); shm_size sizes RUN's
// /dev/shm.
func TestBuildAdditionalContextsAndShmSize(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u, dir, base := buildProject(t, `
services:
  base:
    image: berth-e2e/base:1
    build: ./base
    command: ["true"]
  web:
    image: berth-e2e/web:1
    build:
      context: ./web
      shm_size: 96m
      additional_contexts:
        assets: ./assets
        root: service:base
    command: ["sh", "-c", "cat /made-by-base /a.txt /shm"]
`)
	writeFile(t, filepath.Join(dir, "base", "Dockerfile"), "FROM "+base+"\nRUN echo base > /made-by-base\n", 0, 0)
	writeFile(t, filepath.Join(dir, "assets", "a.txt"), "asset\n", 0, 0)
	writeFile(t, filepath.Join(dir, "web", "Dockerfile"), "FROM root\nCOPY --from=assets a.txt /a.txt\nRUN df -k /dev/shm | awk 'NR==2 {print $2}' > /shm\n", 0, 0)
	u.run("up", "-d", "web")
	if out := u.run("logs", "--no-log-prefix", "web"); !strings.Contains(out, "base\nasset\n98304") {
		t.Fatalf("web's image: %q", out)
	}
	// Changing the named directory's content is a change of the context.
	writeFile(t, filepath.Join(dir, "assets", "a.txt"), "asset two\n", 0, 0)
	if out := u.run("plan", "--build"); !strings.Contains(out, "context changed") {
		t.Fatalf("plan after an asset changed:\n%s", out)
	}
}

// A built image runs as a pulled one: its HEALTHCHECK is run (ps shows the
// service healthy), its STOPSIGNAL is what stop sends, its USER and
// WORKDIR are the process's.
func TestBuiltImageHealthcheckAndStopSignal(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u, dir, base := buildProject(t, `
services:
  app:
    build: ./app
`)
	writeFile(t, filepath.Join(dir, "app", "Dockerfile"), "FROM "+base+"\n"+
		"WORKDIR /srv\nUSER 1234:1234\n"+
		"HEALTHCHECK --interval=200ms --timeout=2s --retries=1 CMD test \"$(pwd)\" = /srv\n"+
		"STOPSIGNAL SIGUSR1\n"+
		`CMD ["sh", "-c", "echo uid=$(id -u) cwd=$(pwd); trap 'echo got-usr1; exit 0' USR1; while true; do sleep 0.1; done"]`+"\n", 0, 0)
	u.run("up", "-d", "--wait", "--wait-timeout", "30")
	if out := u.run("ps", "--format", "{{.Status}}"); !strings.Contains(out, "(healthy)") {
		t.Fatalf("the image's healthcheck did not run: %q", out)
	}
	u.run("stop", "-t", "20")
	out := u.run("logs", "--no-log-prefix", "app")
	if !strings.Contains(out, "uid=1234 cwd=/srv") || !strings.Contains(out, "got-usr1") {
		t.Fatalf("user, workdir or stop signal of the built image not applied:\n%s", out)
	}
	if ps := u.run("ps", "-a", "--format", "{{.Status}}"); !strings.Contains(ps, "Exited (0)") {
		t.Fatalf("stopped by its STOPSIGNAL, it exits 0: %q", ps)
	}
}
