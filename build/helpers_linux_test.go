package build

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/testutil"
	berthrt "github.com/berth-dev/berth/runtime"
)

func TestMain(m *testing.M) {
	berthrt.Reexec()
	os.Exit(m.Run())
}

// env is one root test's store and runtime, private to it, with a
// busybox image tagged "busybox".
type env struct {
	store *image.Store
	rt    *berthrt.Runtime
	root  string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("root test: skipped with -short")
	}
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	base := t.TempDir()
	parent := fmt.Sprintf("berth-b%08x", rand.Uint32())
	store, err := image.Open(filepath.Join(base, "lib"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: store, rt: berthrt.New(filepath.Join(base, "lib"), filepath.Join(base, "run"), berthrt.WithCgroupParent(parent)), root: base}
	t.Cleanup(func() {
		ids, _ := e.rt.List()
		for _, id := range ids {
			t.Errorf("container %s left behind", id)
			e.rt.Remove(context.Background(), id)
		}
		testutil.RemoveCgroupParent(t, parent)
	})
	if _, err := store.Import(context.Background(), bytes.NewReader(testutil.BusyboxTar(t)), "busybox", []string{`CMD ["sh"]`, "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// context writes files (by relative path; a value "->target" is a
// symlink) into a fresh context directory.
func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(data, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// build runs Build and returns the image and the ended steps.
func (e *env) build(t *testing.T, o Options) (*image.Image, []Event, error) {
	t.Helper()
	var steps []Event
	o.Progress = func(ev Event) {
		if ev.Done {
			steps = append(steps, ev)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img, err := Build(ctx, e.store, e.rt, o)
	return img, steps, err
}

// run runs img's command (or argv instead) in a container and returns
// its exit code and output.
func (e *env) run(t *testing.T, img *image.Image, argv ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	layers, err := e.store.Snapshots(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(argv) == 0 {
		argv = append(append([]string{}, img.Config.Entrypoint...), img.Config.Cmd...)
	}
	c := berthrt.Config{ID: fmt.Sprintf("t%08x", rand.Uint32()), Layers: layers, Args: argv, Env: img.Config.Env, Cwd: img.Config.WorkingDir, User: img.Config.User}
	if err := e.rt.Start(ctx, c); err != nil {
		t.Fatal(err)
	}
	defer e.rt.Remove(context.Background(), c.ID)
	var out bytes.Buffer
	code, err := (&builder{rt: e.rt}).waitRun(ctx, c.ID, &out)
	if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}
