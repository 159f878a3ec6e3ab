package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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

// binary builds berth once per test run and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "berth-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		berthBin = filepath.Join(dir, "berth")
		for _, prog := range []string{"berth", "berth-runtime"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, prog), "../cmd/"+prog).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("building %s: %v: %s", prog, err, out)
				return
			}
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
}

func newUser(t *testing.T, dir string) *user {
	t.Helper()
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	return &user{t: t, bin: binary(t), dir: dir, root: root, project: fmt.Sprintf("e2e%d", rand.IntN(1<<30)), env: append(os.Environ(),
		"BERTH_ROOT="+root,
		"BERTH_RUN_ROOT="+filepath.Join(tmp, "run"),
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
