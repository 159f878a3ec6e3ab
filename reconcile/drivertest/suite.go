// Package drivertest is one suite of the behaviour berth's planner counts
// on from a host: what Observe reports after each driver call, and which
// removals a host declines. It runs against reconcile's fakes in every
// test run and against the real engine as root, so the fakes the planner
// is tested with cannot drift from the host they stand for.
package drivertest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// Host is one test's host, as the suite drives it.
type Host struct {
	Observer reconcile.Observer
	Drivers  reconcile.Drivers
	Image    string // an image on the host that has sh and sleep
	Project  string // a project name no other test uses
}

// Run runs the suite, each test on a fresh host from newHost, which must
// clean up after itself.
func Run(t *testing.T, newHost func(t *testing.T) Host) {
	for _, c := range []struct {
		name string
		test func(*testing.T, *suite)
	}{
		{"Lifecycle", testLifecycle},
		{"InUseIsKept", testInUseIsKept},
		{"AnonymousVolumes", testAnonymousVolumes},
		{"RepeatedCallsAreHarmless", testRepeatedCalls},
		{"PauseAndKill", testPauseAndKill},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.test(t, &suite{t: t, Host: newHost(t)})
		})
	}
}

// now is a stop grace period of none: the suite's containers need none.
var now time.Duration

// suite is one test's state.
type suite struct {
	t *testing.T
	Host
	project *spec.Project
}

// load loads a stack of one service, app, on network default with the
// named volume data at /data, plus extra lines for app.
func (s *suite) load(extra string) *spec.Project {
	s.t.Helper()
	dir := s.t.TempDir()
	yaml := "services:\n  app:\n    image: " + s.Image + "\n    command: [sleep, '1000']\n    volumes: [data:/data" + extra + "]\nvolumes:\n  data: {}\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yaml), 0o644); err != nil {
		s.t.Fatal(err)
	}
	p, err := spec.Load(context.Background(), spec.LoadOptions{WorkingDir: dir, ProjectName: s.Project, Environ: []string{}})
	if err != nil {
		s.t.Fatal(err)
	}
	s.project = p
	return p
}

func (s *suite) observe() reconcile.Observed {
	s.t.Helper()
	obs, err := s.Observer.Observe(context.Background(), s.project)
	if err != nil {
		s.t.Fatal(err)
	}
	return obs
}

// apply plans with decide against what is observed and applies the plan.
func (s *suite) apply(decide func(reconcile.Observed) (reconcile.Plan, error)) {
	s.t.Helper()
	plan, err := decide(s.observe())
	if err != nil {
		s.t.Fatal(err)
	}
	if err := reconcile.Apply(context.Background(), plan, s.Drivers, 0, nil); err != nil {
		s.t.Fatalf("%v\n%s", err, plan)
	}
}

func (s *suite) up() {
	s.t.Helper()
	if _, err := reconcile.Converge(context.Background(), s.project, s.Observer, s.Drivers, reconcile.Options{}, nil); err != nil {
		s.t.Fatal(err)
	}
}

func (s *suite) down() {
	s.t.Helper()
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanDown(s.project, obs, reconcile.DownOptions{RemoveVolumes: true, Timeout: &now})
	})
}

// app is the observed container of service app; ok is false when there is none.
func (s *suite) app() (c reconcile.Container, ok bool) {
	s.t.Helper()
	obs := s.observe()
	if len(obs.Containers) > 1 {
		s.t.Fatalf("one container expected, observed %+v", obs.Containers)
	}
	if len(obs.Containers) == 0 {
		return c, false
	}
	return obs.Containers[0], true
}

func (s *suite) wantState(want lifecycle.Status) {
	s.t.Helper()
	c, ok := s.app()
	if !ok || c.State != want {
		s.t.Fatalf("want the container %s, observed %+v (present: %v)", want, c, ok)
	}
}

// up makes the network, the volume and a running container; stop, start,
// restart and down each show in what Observe reports; a second up plans
// nothing.
func testLifecycle(t *testing.T, s *suite) {
	p := s.load("")
	s.up()
	s.wantState(lifecycle.Running)
	obs := s.observe()
	net, vol := p.Networks["default"].Name, p.Volumes["data"].Name
	if !obs.Networks[net].Exists || !obs.Networks[net].Recorded || !obs.Volumes[vol].Exists || !obs.Volumes[vol].Recorded {
		t.Fatalf("after up: networks %v, volumes %v", obs.Networks, obs.Volumes)
	}
	if again, err := reconcile.PlanUp(p, obs, reconcile.Options{}); err != nil || !again.Empty() {
		t.Fatalf("a second up plans:\n%s%v", again, err)
	}
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanStop(p, obs, reconcile.StopOptions{Timeout: &now})
	})
	if c, _ := s.app(); c.State.Active() {
		t.Fatalf("after stop the container is %s", c.State)
	}
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) { return reconcile.PlanStart(p, obs, nil) })
	s.wantState(lifecycle.Running)
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanRestart(p, obs, reconcile.StopOptions{Timeout: &now})
	})
	s.wantState(lifecycle.Running)
	s.down()
	obs = s.observe()
	if len(obs.Containers) != 0 || obs.Networks[net].Exists || obs.Volumes[vol].Exists {
		t.Fatalf("after down: %+v", obs)
	}
}

// A network or volume a container still uses is kept, with ErrKept.
func testInUseIsKept(t *testing.T, s *suite) {
	p := s.load("")
	s.up()
	ctx := context.Background()
	if err := s.Drivers.Networks.RemoveNetwork(ctx, p.Networks["default"].Name); !errors.Is(err, reconcile.ErrKept) {
		t.Errorf("removing a network in use: want ErrKept, got %v", err)
	}
	if err := s.Drivers.Volumes.RemoveVolume(ctx, p.Volumes["data"].Name); !errors.Is(err, reconcile.ErrKept) {
		t.Errorf("removing a volume in use: want ErrKept, got %v", err)
	}
	s.wantState(lifecycle.Running)
	s.down()
}

// A bare container path gets an anonymous volume, which Observe lists
// with its container; rm -v removes it, and a plain rm keeps it.
func testAnonymousVolumes(t *testing.T, s *suite) {
	p := s.load(", /scratch")
	s.up()
	c, _ := s.app()
	if len(c.Volumes) != 1 {
		t.Fatalf("want one anonymous volume observed with the container, got %v", c.Volumes)
	}
	anon := c.Volumes[0].Name
	if pr := s.observe().Volumes[anon]; !pr.Exists || !pr.Recorded {
		t.Fatalf("the anonymous volume %s is not observed as made: %+v", anon, pr)
	}
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanRemove(p, obs, reconcile.RemoveOptions{Stop: true, Volumes: true, Timeout: &now})
	})
	if _, ok := s.app(); ok {
		t.Fatal("rm -s left the container")
	}
	if s.observe().Volumes[anon].Exists {
		t.Fatalf("rm -v left the anonymous volume %s", anon)
	}
	s.down()
}

// Stopping a stopped container, creating a volume that exists and
// removing what is gone succeed: Apply may repeat an action after a
// failed pass.
func testRepeatedCalls(t *testing.T, s *suite) {
	p := s.load("")
	s.up()
	c, _ := s.app()
	ctx := context.Background()
	for range 2 {
		if err := s.Drivers.Containers.Stop(ctx, c.Name, 0); err != nil {
			t.Fatalf("stop: %v", err)
		}
	}
	if err := s.Drivers.Volumes.CreateVolume(ctx, p.Name, "data", p.Volumes["data"]); err != nil {
		t.Fatalf("creating a volume that exists: %v", err)
	}
	s.down()
	net := p.Networks["default"].Name
	if err := s.Drivers.Containers.Remove(ctx, c.Name, 0); err != nil {
		t.Errorf("removing a removed container: %v", err)
	}
	if err := s.Drivers.Networks.RemoveNetwork(ctx, net); err != nil {
		t.Errorf("removing a removed network: %v", err)
	}
	if slices.ContainsFunc(s.observe().Containers, func(x reconcile.Container) bool { return x.Name == c.Name }) {
		t.Errorf("the container came back")
	}
}

// pause shows as paused, a second pause is refused, unpause resumes it;
// stop ends a paused container; kill with SIGKILL ends it with 137.
func testPauseAndKill(t *testing.T, s *suite) {
	p := s.load("")
	s.up()
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) { return reconcile.PlanPause(p, obs, nil) })
	s.wantState(lifecycle.Paused)
	if plan, err := reconcile.PlanPause(p, s.observe(), nil); err == nil || !plan.Empty() {
		t.Fatalf("pausing a paused container: %v\n%s", err, plan)
	}
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) { return reconcile.PlanUnpause(p, obs, nil) })
	s.wantState(lifecycle.Running)
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) { return reconcile.PlanPause(p, obs, nil) })
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanStop(p, obs, reconcile.StopOptions{Timeout: &now})
	})
	if c, _ := s.app(); c.State.Active() {
		t.Fatalf("after stop of a paused container it is %s", c.State)
	}
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) { return reconcile.PlanStart(p, obs, nil) })
	s.apply(func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanKill(p, obs, reconcile.KillOptions{Signal: lifecycle.Signal{Number: 9, Name: "SIGKILL"}})
	})
	if c, _ := s.app(); c.State != lifecycle.Exited || c.ExitCode != 137 {
		t.Fatalf("after kill: %+v", c)
	}
	s.down()
}
