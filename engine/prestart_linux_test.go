package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// startSpy is the engine as the plan's container driver, noting, as each
// Start begins (once the container's preparation is over), the state of
// each container of the project and whether its own process runs.
type startSpy struct {
	*Engine
	out   string   // where each container's process makes a file named by its service
	names []string // the project's containers
	mu    sync.Mutex
	seen  []map[string]string // per start, in order: its name ("") and each container's state
}

func (s *startSpy) Start(ctx context.Context, name string) error {
	_ = s.awaitPrestart(name, false)
	m := map[string]string{"": name}
	svc := strings.TrimSuffix(name[strings.Index(name, "-")+1:], "-1")
	if _, err := os.Stat(filepath.Join(s.out, svc)); err == nil {
		m["ran"] = svc // its process ran before its start
	}
	for _, n := range s.names {
		m[n] = s.state(ctx, n)
	}
	s.mu.Lock()
	s.seen = append(s.seen, m)
	s.mu.Unlock()
	return s.Engine.Start(ctx, name)
}

// state is container name's status, with "+shim" while a shim holds it
// and "+sh" once the kernel shows its own process (sh, not libcontainer's
// init) as its pid 1.
func (s *startSpy) state(ctx context.Context, name string) string {
	st, err := s.runtime.State(ctx, name)
	if err != nil {
		return err.Error()
	}
	out := string(st.Status)
	if st.Shim {
		out += "+shim"
	}
	if st.Pid > 0 {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.Pid))
		// Empty while an exec is under way (sh's of sleep): read again.
		for deadline := time.Now().Add(time.Second); len(cmdline) == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
			cmdline, _ = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.Pid))
		}
		if argv := strings.Split(string(cmdline), "\x00"); argv[0] == "sh" || argv[0] == "sleep" {
			out += "+sh"
		}
	}
	return out
}

// The containers of a depends_on chain that wait for other starts are
// prepared at their creation (each held created by its shim, its process
// not run), then started one after the other: when each start begins,
// exactly its dependencies' processes run. A dependent whose process ran
// before its dependency's, or before its own start, fails it; so does a
// dependent not prepared, or a prepared head of the chain (its start
// follows its creation: nothing to prepare beside).
func TestPreparedChainStartsInOrder(t *testing.T) {
	h := newHost(t)
	out := t.TempDir()
	svc := func(name, dep string) string {
		s := fmt.Sprintf(`
  %s:
    image: berth-test/busybox:1
    command: ["sh", "-c", "touch /out/%s; exec sleep 1000"]
    volumes: ["%s:/out"]`, name, name, out)
		if dep != "" {
			s += "\n    depends_on: [" + dep + "]"
		}
		return s
	}
	p := h.load("services:" + svc("web", "app") + svc("app", "db") + svc("db", ""))
	ctx := context.Background()
	plan := h.planUp(p)
	name := func(svc string) string { return h.project + "-" + svc + "-1" }
	db, app, web := name("db"), name("app"), name("web")
	spy := &startSpy{Engine: h.e, out: out, names: []string{db, app, web}}
	d := h.drivers()
	d.Containers = spy
	if err := reconcile.Apply(ctx, plan, d, 0, nil); err != nil {
		t.Fatal(err)
	}
	// At each start: the container prepared, its dependencies' processes
	// running, its dependents' not (they may not be created yet).
	chain := []string{db, app, web}
	if len(spy.seen) != len(chain) {
		t.Fatalf("starts: %v, want one of each of %v", spy.seen, chain)
	}
	for i, seen := range spy.seen {
		if seen[""] != chain[i] {
			t.Fatalf("start %d is %s's, want %s's (dependency order)", i, seen[""], chain[i])
		}
		if seen["ran"] != "" {
			t.Errorf("the process of %s ran before its start", seen["ran"])
		}
		for j, n := range chain {
			ok := seen[n] == "running+shim+sh"
			switch {
			case j == i && i == 0:
				ok = seen[n] == "created"
			case j == i:
				ok = seen[n] == "created+shim"
			case j > i:
				ok = !strings.Contains(seen[n], "running")
			}
			if !ok {
				t.Errorf("at the start of %s, %s is %s", chain[i], n, seen[n])
			}
		}
	}
	for _, svc := range []string{"db", "app", "web"} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(out, svc)); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never ran", svc)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if st, err := h.e.Status(ctx, name(svc)); err != nil || st != lifecycle.Running {
			t.Errorf("%s: %s, %v; want running", svc, st, err)
		}
	}
}

// A plan that fails before the starts of prepared containers leaves
// them as a creation does: created, without a shim, their processes not
// run (the engine releases them when it closes).
func TestUnstartedPreparationReleased(t *testing.T) {
	h := newHost(t)
	out := t.TempDir()
	p := h.load(fmt.Sprintf(`
services:
  app:
    image: berth-test/busybox:1
    command: ["sh", "-c", "touch /out/app; exec sleep 1000"]
    volumes: ["%s:/out"]
`, out))
	ctx := context.Background()
	plan := prepared(t, h.planUp(p))
	var create reconcile.Action
	for _, a := range plan.Actions {
		if a.Kind == reconcile.Create {
			create = a
		}
	}
	d := h.drivers()
	d.Containers = failingStart{h.e}
	if err := reconcile.Apply(ctx, plan, d, 0, nil); err == nil {
		t.Fatal("the plan's start did not fail")
	}
	h.e.releasePrestarts() // as Close does
	st, err := h.e.runtime.State(ctx, create.Target)
	if err != nil || st.Status != lifecycle.Created || st.Shim {
		t.Fatalf("released: %+v, %v; want created without shim", st, err)
	}
	if _, err := os.Stat(filepath.Join(out, "app")); err == nil {
		t.Fatal("the process of a container never started ran")
	}
	if err := h.e.Start(ctx, create.Target); err != nil {
		t.Fatalf("start after the release: %v", err)
	}
}

// prepared has every creation of plan prepared, as the planner has those
// that wait for other starts (ContainerSpec.Prestart).
func prepared(t *testing.T, plan reconcile.Plan) reconcile.Plan {
	t.Helper()
	n := 0
	for _, a := range plan.Actions {
		if a.Kind == reconcile.Create {
			a.Container.Prestart = true
			n++
		}
	}
	if n == 0 {
		t.Fatalf("plan %+v: no creation", plan.Actions)
	}
	return plan
}

// failingStart is the engine whose starts fail before they begin.
type failingStart struct{ *Engine }

func (failingStart) Start(context.Context, string) error { return errors.New("no start") }

// A container prepared at its creation, removed before its start (the
// plan failed first), and made again without a preparation: its start
// runs the post_start hooks of its new creation, not the old one's, as
// an engine that lives on (reconcile --watch) sees it.
func TestRecreatedUnpreparedRunsItsOwnHooks(t *testing.T) {
	h := newHost(t)
	out := t.TempDir()
	load := func(hook string) *spec.Project {
		return h.load(fmt.Sprintf(`
services:
  app:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
    volumes: ["%s:/out"]
    post_start:
      - command: ["touch", "/out/%s"]
`, out, hook))
	}
	ctx := context.Background()
	plan := prepared(t, h.planUp(load("first")))
	d := h.drivers()
	d.Containers = failingStart{h.e}
	if err := reconcile.Apply(ctx, plan, d, 0, nil); err == nil {
		t.Fatal("the plan's start did not fail")
	}
	plan = h.planUp(load("second"))
	recreated := false
	for _, a := range plan.Actions {
		if a.Kind == reconcile.Create {
			a.Container.Prestart = false
			recreated = true
		}
	}
	if !recreated {
		t.Fatalf("plan %+v: want a recreate", plan.Actions)
	}
	if err := reconcile.Apply(ctx, plan, h.drivers(), 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "first")); err == nil {
		t.Error("the start ran the post_start hook of the earlier creation")
	}
	if _, err := os.Stat(filepath.Join(out, "second")); err != nil {
		t.Errorf("the start did not run its own post_start hook: %v", err)
	}
}
