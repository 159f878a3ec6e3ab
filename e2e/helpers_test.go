package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

var (
	buildOnce sync.Once
	berthBin  string
	buildErr  error
)

// repoRoot is the repository's top directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// binary builds berth (and its helper programs beside it) once per test
// run and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "berth-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		berthBin = filepath.Join(dir, "berth")
		for _, prog := range []string{"berth", "berth-kube", "berth-gitops", "berth-runtime", "berth-init"} {
			bin := filepath.Join(dir, prog)
			build := exec.Command("go", "build", "-tags", buildTags(), "-o", bin, "../cmd/"+prog)
			if prog == "berth-init" {
				build.Env = append(os.Environ(), "CGO_ENABLED=0") // static: it runs inside images
			}
			switch prog { // with the Makefile's rules: their tags, static link (and experiment)
			case "berth":
				build = exec.Command("make", "-s", "-C", "..", "BIN="+bin, bin)
			case "berth-runtime":
				build = exec.Command("make", "-s", "-C", "..", "RUNTIME="+bin, bin)
			}
			out, err := build.CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("building %s: %v: %s", prog, err, out)
				return
			}
		}
		// The idle shim (C, as the Makefile builds it).
		out, err := testutil.BuildIdle("../cmd/berth-idle/main.c", filepath.Join(dir, "berth-idle"))
		if err != nil {
			buildErr = fmt.Errorf("building berth-idle: %v: %s", err, out)
			return
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return berthBin
}

// user is a person at a shell with a private berth: its own state roots,
// subnet pool and project name, so it collides with nothing else.
type user struct {
	t       *testing.T
	bin     string
	dir     string
	env     []string
	project string
	root    string // BERTH_ROOT
	runRoot string // BERTH_RUN_ROOT
}

func newUser(t *testing.T, dir string) *user {
	t.Helper()
	tmp := t.TempDir()
	root, run := filepath.Join(tmp, "root"), filepath.Join(tmp, "run")
	return &user{t: t, bin: binary(t), dir: dir, root: root, runRoot: run, project: fmt.Sprintf("e2e%d", rand.IntN(1<<30)), env: append(os.Environ(),
		"BERTH_ROOT="+root,
		"BERTH_RUN_ROOT="+run,
		fmt.Sprintf("BERTH_SUBNET_POOL=10.%d.%d.0/24", 200+rand.IntN(50), rand.IntN(256)),
	)}
}

// run runs berth with args in the user's directory and returns its output,
// failing the test if it fails.
func (u *user) run(args ...string) string {
	u.t.Helper()
	out, err := u.try(args...)
	if err != nil {
		u.t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// try runs berth and returns its combined output and error.
func (u *user) try(args ...string) (string, error) { return u.tryStdin("", args...) }

// tryStdin is try with stdin.
func (u *user) tryStdin(stdin string, args ...string) (string, error) {
	cmd := exec.Command(u.bin, append([]string{"-p", u.project}, args...)...)
	cmd.Dir = u.dir
	cmd.Env = u.env
	cmd.Stdin = strings.NewReader(stdin)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.String(), err
}

// runStdin is run with stdin.
func (u *user) runStdin(stdin string, args ...string) string {
	u.t.Helper()
	out, err := u.tryStdin(stdin, args...)
	if err != nil {
		u.t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// setenv adds a variable to the user's environment.
func (u *user) setenv(kv string) { u.env = append(u.env, kv) }

// importBusybox imports the test busybox root filesystem as berth-e2e/busybox:1.
func (u *user) importBusybox() {
	u.t.Helper()
	tar := filepath.Join(u.t.TempDir(), "busybox.tar")
	if err := os.WriteFile(tar, testutil.BusyboxTar(u.t), 0o644); err != nil {
		u.t.Fatal(err)
	}
	u.run("image", "import", tar, "berth-e2e/busybox:1")
}

// sleep waits a little between retries.
func sleep() { time.Sleep(100 * time.Millisecond) }

// running is a berth command left running in the background, whose output
// a test waits on line by line.
type running struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
	seen  []string
}

// start runs berth with args in the background.
func (u *user) start(args ...string) *running {
	u.t.Helper()
	cmd := exec.Command(u.bin, append([]string{"-p", u.project}, args...)...)
	cmd.Dir, cmd.Env = u.dir, u.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		u.t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	r := &running{t: u.t, cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	u.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return r
}

// wait reads output until a line contains want, failing after 30 s or if
// the command ends first.
func (r *running) wait(want string) {
	r.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				r.t.Fatalf("%v ended before %q; output:\n%s", r.cmd.Args, want, strings.Join(r.seen, "\n"))
			}
			r.seen = append(r.seen, l)
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			r.t.Fatalf("no %q in time; output:\n%s", want, strings.Join(r.seen, "\n"))
		}
	}
}

// interrupt sends Ctrl-C and waits for the command to end, failing t if
// it does not end well.
func (r *running) interrupt() {
	r.t.Helper()
	r.cmd.Process.Signal(syscall.SIGINT)
	r.end("after Ctrl-C")
}

// end reads the command's output to its end and waits for it, failing t,
// with what it printed, if it does not end well; when says at what.
func (r *running) end(when string) {
	r.t.Helper()
	for l := range r.lines { // to the end, so the command never blocks writing
		r.seen = append(r.seen, l)
	}
	if err := r.cmd.Wait(); err != nil {
		r.t.Fatalf("%v %s: %v\n%s", r.cmd.Args, when, err, strings.Join(r.seen, "\n"))
	}
}

// busyboxProject is a user with stack yaml and the test busybox image
// imported, whose project is taken down with `down downArgs...` and whose
// cgroup parent is removed after the test.
func busyboxProject(t *testing.T, yaml string, downArgs ...string) *user {
	t.Helper()
	u := newUser(t, project(t, yaml))
	t.Cleanup(func() {
		u.try(append([]string{"down"}, downArgs...)...)
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	return u
}
