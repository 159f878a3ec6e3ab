package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// split runs berth with stdin and returns its stdout, stderr and exit code apart.
func (u *user) split(stdin string, args ...string) (string, string, int) {
	u.t.Helper()
	cmd := exec.Command(u.bin, append([]string{"-p", u.project}, args...)...)
	cmd.Dir, cmd.Env = u.dir, u.env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		u.t.Fatalf("berth %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// runStack is a project whose web depends on a healthy db, publishes a
// port and has an alias.
func runStack(t *testing.T) *user {
	t.Helper()
	port := 20000 + rand.IntN(12000) // below the ephemeral range (32768+), where outgoing connections hold ports
	u := busyboxProject(t, fmt.Sprintf(`
services:
  db:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; touch /ready; while true; do sleep 0.1; done"]
    healthcheck: {test: ["CMD", "test", "-f", "/ready"], interval: 200ms, retries: 50}
  web:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    environment: {FROM_SERVICE: svc}
    ports: ["127.0.0.1:%d:80"]
    depends_on:
      db: {condition: service_healthy}
    networks:
      default:
        aliases: [www]
`, port), "-v", "-t", "0")
	return u
}

var oneOffName = regexp.MustCompile(`-web-run-[0-9a-f]{12}\b`)

func TestRunOneOff(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := runStack(t)

	// --no-deps: the dependency stays down.
	if out, _, code := u.split("", "run", "--rm", "-T", "--no-deps", "web", "echo", "alone"); code != 0 || out != "alone\n" {
		t.Fatalf("run --no-deps: %d %q", code, out)
	}
	if ps := u.run("ps", "-a"); strings.Contains(ps, "db-1") {
		t.Fatalf("--no-deps started db:\n%s", ps)
	}
	// Exit codes, stdout and stderr apart, the dependency brought up healthy first.
	out, errs, code := u.split("", "run", "--rm", "-T", "web", "sh", "-c", "echo out; echo err >&2; exit 42")
	if code != 42 || out != "out\n" || !strings.Contains(errs, "err\n") {
		t.Fatalf("run: code %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, _, code := u.split("", "run", "--rm", "-T", "web", "false"); code != 1 {
		t.Fatalf("run of false: exit %d, want 1", code)
	}
	if _, errs, code := u.split("", "run", "--rm", "-T", "web", "true"); code != 0 {
		t.Fatalf("run of true: exit %d, want 0; stderr %s", code, errs)
	}
	if ps := u.run("ps"); !strings.Contains(ps, u.project+"-db-1") || !strings.Contains(ps, "(healthy)") {
		t.Fatalf("run did not bring db up healthy first:\n%s", ps)
	}
	// stdin through, --rm leaving nothing behind.
	if out, _, code := u.split("piped\nin\n", "run", "--rm", "-T", "web", "cat"); code != 0 || out != "piped\nin\n" {
		t.Fatalf("stdin through run: %d %q", code, out)
	}
	if _, errs, code := u.split("", "run", "--rm", "-T", "web", "/no/such/program"); code != 1 || !strings.Contains(errs, "/no/such/program") {
		t.Fatalf("a one-off that cannot start: %d %q", code, errs)
	}
	if ps := u.run("ps", "-a"); oneOffName.MatchString(ps) {
		t.Fatalf("--rm left a one-off:\n%s", ps)
	}
	if vols := anonVolumes(t, u); len(vols) != 0 {
		t.Fatalf("--rm left volumes: %v", vols)
	}

	// -e, --entrypoint, -w, -u, -l, -v.
	dir := filepath.Join(u.dir, "data")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "f"), []byte("from the host"), 0o644)
	out, errs, code = u.split("", "run", "--rm", "-T", "-e", "X=ex", "-w", "/tmp", "-u", "1234", "-v", "./data:/data:ro",
		"--entrypoint", "sh -c", "web", `echo $X $FROM_SERVICE $(pwd) $(id -u) $(cat /data/f)`)
	if code != 0 || out != "ex svc /tmp 1234 from the host\n" {
		t.Fatalf("run's overrides: %d %q %q", code, out, errs)
	}

	// -d: the ID printed, the one-off named and labelled as Docker Compose's,
	// not published unless asked, left alone by up, removed by down.
	id, _, _ := u.split("", "run", "-d", "-l", "job=migrate", "web", "sleep", "1000")
	id = strings.TrimSpace(id)
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want the container's ID", id)
	}
	name := strings.Trim(u.run("inspect", "-f", "{{.Name}}", id), "/\n")
	if !oneOffName.MatchString(name) || !strings.HasPrefix(name, u.project) {
		t.Fatalf("one-off name %q", name)
	}
	labels := u.run("inspect", "-f", "{{json .Config.Labels}}", name)
	for _, want := range []string{`"com.docker.compose.oneoff":"True"`, `"job":"migrate"`} {
		if !strings.Contains(labels, want) {
			t.Errorf("label %s missing: %s", want, labels)
		}
	}
	if b := u.run("inspect", "-f", "{{json .HostConfig.PortBindings}}", name); strings.Contains(b, "80/tcp") {
		t.Errorf("a one-off publishes the service's ports without --service-ports: %s", b)
	}
	if out := u.run("up", "-d"); strings.Contains(out, "orphan") || strings.Contains(out, name) {
		t.Fatalf("up touched or warned about the one-off:\n%s", out)
	}
	if out := u.run("plan"); !strings.Contains(out, "Nothing to do") {
		t.Fatalf("the one-off makes up plan something:\n%s", out)
	}
	// The one-off is known by its name on the network, not as web or www.
	hosts := u.run("exec", "-T", "web", "cat", "/etc/hosts")
	if !strings.Contains(hosts, name) || regexp.MustCompile(name+`.*\bwww\b`).MatchString(hosts) {
		t.Fatalf("/etc/hosts of web:\n%s", hosts)
	}
	u.run("down", "-t", "0")
	if ps := u.run("ps", "-a"); strings.Contains(ps, name) {
		t.Fatalf("down left the one-off:\n%s", ps)
	}
}

func TestRunPublishes(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := runStack(t)
	port := 20000 + rand.IntN(12000) // below the ephemeral range (32768+), where outgoing connections hold ports
	u.run("run", "-d", "--no-deps", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "web", "sh", "-c", "while true; do echo hi | nc -l -p 80; done")
	waitFor(t, "the one-off's published port to answer", func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 3)
		n, _ := c.Read(buf)
		return string(buf[:n]) == "hi\n"
	})
	if _, errs, code := u.split("", "run", "--rm", "-T", "--service-ports", "-p", "1:1", "web", "true"); code != 1 || !strings.Contains(errs, "incompatible") {
		t.Fatalf("--service-ports with -p: %d %q", code, errs)
	}
	id, _, _ := u.split("", "run", "-d", "--no-deps", "--service-ports", "web", "sleep", "1000")
	id = strings.TrimSpace(id)
	if b := u.run("inspect", "-f", "{{json .HostConfig.PortBindings}}", id); !strings.Contains(b, "80/tcp") {
		t.Errorf("--service-ports does not publish the service's port: %s", b)
	}
}

// Signals berth run gets reach the one-off (here through init: true,
// as PID 1 ignores what it has no handler for), and a death by signal is
// 128+N.
func TestRunForwardsSignals(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  job:
    image: berth-e2e/busybox:1
    init: true
`, "-v", "-t", "0")
	cmd := exec.Command(u.bin, "-p", u.project, "run", "--rm", "-T", "job", "sleep", "1000")
	cmd.Dir, cmd.Env = u.dir, u.env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, "the one-off to run", func() bool {
		out, _, _ := u.split("", "top")
		return strings.Contains(out, "sleep 1000")
	})
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Fatalf("run after SIGTERM: %v, want exit status 143", err)
	}
	if ps := u.run("ps", "-a"); strings.Contains(ps, "-run-") {
		t.Fatalf("--rm left the one-off:\n%s", ps)
	}
}

// run in a terminal: a shell with a tty, the size followed, the exit code
// passed on, the local terminal restored.
func TestRunTerminal(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := runStack(t)
	term := newTerminal(t, 24, 80)
	_, exited := term.start(u, "run", "--rm", "--no-deps", "web", "sh")
	term.ask("tty; echo x$((6*7))y\r", "x42y")
	if !strings.Contains(term.screen.String(), "/dev/pts/") {
		t.Errorf("the one-off has no terminal: %q", term.screen.String())
	}
	term.ask("stty size\r", "24 80")
	term.resize(50, 132)
	term.ask("stty size\r", "50 132")
	term.type_("exit 5\r")
	if code := ended(t, exited); code != 5 {
		t.Errorf("run ended with %d, want exit status 5", code)
	}
	term.restored()
	if ps := u.run("ps", "-a"); oneOffName.MatchString(ps) {
		t.Fatalf("--rm left the one-off:\n%s", ps)
	}
}
