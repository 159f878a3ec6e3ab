package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
)

// host is one test's private berth: its own roots, subnet and project.
type host struct {
	t       *testing.T
	e       *Engine
	dir     string // project directory
	project string
	last    *spec.Project // the project last loaded, for down
}

func newHost(t *testing.T) *host {
	t.Helper()
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	tmp := t.TempDir()
	pool := netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/22", 200+rand.IntN(50), 4*rand.IntN(64)))
	e, err := Open(filepath.Join(tmp, "root"), filepath.Join(tmp, "run"), WithSubnetPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	h := &host{t: t, e: e, dir: filepath.Join(tmp, "project"), project: fmt.Sprintf("it%d", rand.IntN(1<<30))}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Images.Import(context.Background(), bytes.NewReader(testutil.BusyboxTarWith(t, map[string][]byte{"/bin/udpecho": testutil.GoHelper(t, "udpecho")})), "berth-test/busybox:1", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.down(true)
		e.Close()
		testutil.RemoveCgroupParent(t, HostName(e.Root))
	})
	return h
}

// load writes compose.yaml and loads it.
func (h *host) load(yaml string, env ...string) *spec.Project {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.dir, "compose.yaml"), []byte(yaml), 0o644); err != nil {
		h.t.Fatal(err)
	}
	p, err := spec.Load(context.Background(), spec.LoadOptions{WorkingDir: h.dir, ProjectName: h.project, Environ: env})
	if err != nil {
		h.t.Fatal(err)
	}
	h.last = p
	return p
}

func (h *host) drivers() reconcile.Drivers {
	return reconcile.Drivers{Images: h.e, Networks: h.e, Volumes: h.e, Containers: h.e}
}

func (h *host) up(p *spec.Project) (reconcile.Plan, error) {
	return reconcile.Converge(context.Background(), p, h.e, h.drivers(), reconcile.Options{}, nil)
}

// planUp observes the host and plans an up of p, failing the test on an
// error.
func (h *host) planUp(p *spec.Project) reconcile.Plan {
	h.t.Helper()
	obs, err := h.e.Observe(context.Background(), p)
	if err != nil {
		h.t.Fatal(err)
	}
	plan, err := reconcile.PlanUp(p, obs, reconcile.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	return plan
}

func (h *host) mustUp(p *spec.Project) reconcile.Plan {
	h.t.Helper()
	plan, err := h.up(p)
	if err != nil {
		h.t.Fatalf("up: %v", err)
	}
	return plan
}

func (h *host) down(volumes bool) {
	h.t.Helper()
	ctx := context.Background()
	p := h.last
	if p == nil {
		p = &spec.Project{Name: h.project}
	}
	obs, err := h.e.Observe(ctx, p)
	if err != nil {
		h.t.Errorf("observe: %v", err)
		return
	}
	zero := time.Duration(0)
	plan, err := reconcile.PlanDown(p, obs, reconcile.DownOptions{RemoveVolumes: volumes, RemoveOrphans: true, Timeout: &zero})
	if err != nil {
		h.t.Errorf("plan down: %v", err)
		return
	}
	if err := reconcile.Apply(ctx, plan, h.drivers(), 0, nil); err != nil {
		h.t.Errorf("down: %v", err)
	}
}

// logs returns a container's whole log.
func (h *host) logs(name string) string {
	var b strings.Builder
	runtime.ReadLogs(context.Background(), h.e.runtime.LogPath(name), runtime.LogOptions{Tail: -1}, func(l runtime.LogLine) error {
		b.WriteString(l.Text)
		return nil
	})
	return b.String()
}

// waitLog waits until a container's log contains want.
func (h *host) waitLog(name, want string) {
	h.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(h.logs(name), want) {
			return
		}
	}
	h.t.Fatalf("%s never logged %q; log:\n%s", name, want, h.logs(name))
}

const stack = `
services:
  server:
    image: berth-test/busybox:1
    command: ["sh", "-c", "echo served-by-server > /data/index.html; exec httpd -f -p 8000 -h /data"]
    volumes: [data:/data]
  client:
    image: berth-test/busybox:1
    command: ["sh", "-c", "until wget -qO- http://server:8000/index.html; do sleep 0.2; done; echo $$MODE; exec sleep 1000"]
    environment:
      MODE: ${MODE:-first}
    depends_on: [server]
  job:
    image: berth-test/busybox:1
    command: ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"]
volumes:
  data:
`

func TestStackByName(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	p := h.load(stack)
	h.mustUp(p)
	client := spec.ContainerName(h.project, "client", 1)
	h.waitLog(client, "served-by-server")
	h.waitLog(client, "first")

	// The job's exit code is recorded by its shim, in the store.
	job := spec.ContainerName(h.project, "job", 1)
	var rec int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := h.e.store.Container(ctx, job)
		if err != nil {
			t.Fatal(err)
		}
		if c.ExitCode != nil {
			rec = *c.ExitCode
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the job's exit was never recorded")
		}
	}
	if rec != 3 {
		t.Fatalf("job exit code %d, want 3", rec)
	}
	if l := h.logs(job); !strings.Contains(l, "to-stdout") || !strings.Contains(l, "to-stderr") {
		t.Fatalf("job log: %q", l)
	}

	// A second pass plans only restarting the exited job.
	obs, err := h.e.Observe(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := reconcile.PlanUp(p, obs, reconcile.Options{Services: []string{"client", "server"}})
	if err != nil || !plan.Empty() {
		t.Fatalf("second plan: %v\n%s", err, plan)
	}

	// Changing client's environment recreates client only.
	p2 := h.load(stack, "MODE=second")
	plan = h.mustUp(p2)
	var recreated []string
	for _, a := range plan.Actions {
		if a.Kind == reconcile.Remove {
			recreated = append(recreated, a.Target+": "+a.Reason)
		}
	}
	if len(recreated) != 1 || recreated[0] != client+": environment.MODE changed" {
		t.Fatalf("recreated %v", recreated)
	}
	h.waitLog(client, "second")
}

func TestVolumeSurvivesDownAndUp(t *testing.T) {
	h := newHost(t)
	p := h.load(`
services:
  writer:
    image: berth-test/busybox:1
    command: ["sh", "-c", "cat /data/n 2>/dev/null || echo none; date +%N > /data/n; sync; exec sleep 1000"]
    volumes: [data:/data]
volumes:
  data:
`)
	name := spec.ContainerName(h.project, "writer", 1)
	h.mustUp(p)
	h.waitLog(name, "none")
	path := filepath.Join(h.e.volumes.Path(h.project+"_data"), "n")
	var first []byte
	for deadline := time.Now().Add(10 * time.Second); len(first) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		first, _ = os.ReadFile(path)
	}
	if len(first) == 0 {
		t.Fatal("the container wrote nothing into the volume")
	}
	h.down(false)
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("down lost the volume: %q %v", got, err)
	}
	h.mustUp(p)
	h.waitLog(name, strings.TrimSpace(string(first)))
	h.down(true)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("down -v kept the volume: %v", err)
	}
}

// A problem found before anything changes fails up with nothing made.
func TestCheckFailsUpBeforeAnythingIsTouched(t *testing.T) {
	h := newHost(t)
	missing := filepath.Join(h.dir, "missing")
	notDir := filepath.Join(h.dir, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := h.up(h.load(`
services:
  a:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
    volumes:
      - type: bind
        source: ` + missing + `
        target: /x
        bind:
          create_host_path: false
      - data:/data
volumes:
  data:
    driver_opts: {type: none, o: bind, device: ` + notDir + `}
`))
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "device") {
		t.Fatalf("want both problems reported, got %v", err)
	}
	if cs, _ := h.e.store.Containers(context.Background(), h.project); len(cs) != 0 {
		t.Fatalf("containers were made: %v", cs)
	}
	if nets, _ := h.e.store.Networks(context.Background(), h.project); len(nets) != 0 {
		t.Fatalf("networks were made: %v", nets)
	}
}

// A failure half-way through up leaves nothing a second up cannot repair.
func TestFailedUpIsRepaired(t *testing.T) {
	h := newHost(t)
	bad := `
services:
  a:
    image: berth-test/busybox:1
    command: ["/no/such/program"]
`
	if _, err := h.up(h.load(bad)); err == nil || !strings.Contains(err.Error(), "/no/such/program") {
		t.Fatalf("up with a missing program: %v", err)
	}
	plan := h.mustUp(h.load(strings.Replace(bad, `["/no/such/program"]`, `["sleep", "1000"]`, 1)))
	if len(plan.Actions) == 0 || plan.Actions[0].Kind != reconcile.Remove || !strings.Contains(plan.String(), "+ create container") {
		t.Fatalf("the half-made container should be recreated:\n%s", plan)
	}
	st, err := h.e.runtime.State(context.Background(), spec.ContainerName(h.project, "a", 1))
	if err != nil || st.Status != "running" {
		t.Fatalf("state %+v %v", st, err)
	}
}

// address is container's recorded address on network.
func (h *host) address(container, network string) string {
	h.t.Helper()
	eps, err := h.e.endpointsOf(context.Background(), container)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, ep := range eps {
		if ep.Network == network {
			return ep.Address
		}
	}
	h.t.Fatalf("%s has no address on %s", container, network)
	return ""
}

// exec runs a shell script in a fresh busybox container that shares
// container's network namespace and returns its output.
func (h *host) exec(container, script string) string {
	h.t.Helper()
	name := fmt.Sprintf("%s-exec-%d", h.project, rand.IntN(1<<30))
	rootfs := testutil.BusyboxRootfs(h.t)
	cfg := runtime.Config{ID: name, Layers: []string{rootfs}, Args: []string{"sh", "-c", script}, Env: []string{"PATH=/bin"}, NetNS: h.e.netnsPath(container)}
	ctx := context.Background()
	if err := h.e.runtime.Start(ctx, cfg); err != nil {
		h.t.Fatal(err)
	}
	defer h.e.runtime.Remove(ctx, name)
	if _, err := h.e.Wait(ctx, name); err != nil {
		h.t.Fatal(err)
	}
	return h.logs(name)
}
