package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// Create makes container c, ready to start: its record, root filesystem
// layers, network namespace and links, mounts, published ports and
// runtime configuration. It records the container first, with its
// addresses and no config hash, and sets the hash only once all is made
// (two commits in all): after a failure, whatever
// it made is found by the next reconcile, which plans a recreate ("its
// last creation failed") that removes it all first. With c.Prestart its
// init is made too, in the background from its runtime configuration on
// (see prestarts): its Start waits for that and only runs its process.
func (e *Engine) Create(ctx context.Context, c reconcile.ContainerSpec) error {
	defer e.holdPeers()()
	// Its start follows: the grace period its init's move into its
	// cgroups would wait for runs while it is made (runtime.PrimeAttach).
	runtime.PrimeAttach()
	svc := c.Service
	end := phase.Start(c.Name, "create.image")
	img, err := e.Images.Get(svc.Image)
	if err != nil {
		return fmt.Errorf("image %q: %w", svc.Image, err)
	}
	layers, err := e.Images.Snapshots(ctx, img)
	end()
	if err != nil {
		return err
	}
	sec, err := securityConfig(svc.Security, os.ReadFile)
	if err == nil && len(svc.Security.Ulimits) > 0 { // reading the capabilities costs a /proc read and parse
		err = ulimitAbove(svc.Security.Ulimits, hostHardLimit, holdsSysResource())
	}
	if err != nil {
		return fmt.Errorf("service %q: %w", svc.Name, err)
	}
	id := store.NewID()
	labels := containerLabels(c, img.Config.Labels)
	claims, err := e.claims(ctx, c)
	if err != nil {
		return err
	}
	// The record and its addresses, in one transaction.
	end = phase.Start(c.Name, "create.store-put")
	rec := store.Container{ID: id, Name: c.Name, Project: c.Project, Service: svc.Name, Number: c.Number,
		ImageRef: svc.Image, ImageID: img.ID, Spec: svc.Canonical(), CreatedAt: time.Now(), Labels: labels}
	err = e.store.PutContainer(ctx, rec, claims...)
	end()
	if err != nil {
		return err
	}
	defer e.creating(rec)()
	cfg, err := runtimeConfig(c, id, layers)
	if err != nil {
		return err
	}
	cfg.Labels = labels // with the image's, which runtimeConfig does not see
	cfg.Security = sec
	if svc.Init {
		if e.initBinary == "" {
			return fmt.Errorf("service %q: init: true needs the berth-init program beside berth (or at BERTH_INIT)", svc.Name)
		}
		cfg.Init = e.initBinary
	}
	if c.Starts { // or Prestart: a preparation goes through the starter too
		e.runtime.WarmStarter(cfg) // its process starts while this container is made
	}
	end = phase.Start(c.Name, "create.network")
	cfg.NetNS, err = e.attach(ctx, c)
	end()
	if err != nil {
		return err
	}
	end = phase.Start(c.Name, "create.mounts")
	cfg.Mounts, err = e.mounts(ctx, c, img)
	end()
	if err != nil {
		return err
	}
	end = phase.Start(c.Name, "create.initlayer")
	cfg.Layers, err = e.initLayered(ctx, cfg)
	end()
	if err != nil {
		return err
	}
	end = phase.Start(c.Name, "create.runtime")
	err = e.runtime.Create(cfg)
	end()
	if err != nil {
		return err
	}
	if c.Prestart {
		// Its init is made while its ports are published and the steps
		// before its start go on.
		e.prestart(ctx, c.Name, cfg, svc.PostStart)
	} else {
		e.forgetPrestart(c.Name) // an earlier creation's, not removed here
	}
	if !c.Standby { // a start-first successor gets its ports by SwitchPorts
		end = phase.Start(c.Name, "create.ports")
		err := e.publish(ctx, c)
		end()
		if err != nil {
			return err
		}
		// Creations after it name it by its service: the snapshot of
		// peers has it since its own /etc files were rendered (its record
		// and endpoints), unless it shares another's files; read again
		// only when its ports were published since.
		if len(c.Service.Ports) > 0 || c.Shares != "" {
			e.peerChanged(ctx, c.Name)
		}
	}
	// It is made now: record that even if the user interrupts this very
	// moment (its "create" event with it, in one transaction).
	end = phase.Start(c.Name, "create.store-hash")
	err = e.store.Created(context.WithoutCancel(ctx), c.Name, c.Hash, time.Now())
	end()
	if err != nil {
		return err
	}
	return nil
}

// Warm spawns the starter (see runtime.WarmStarter) when plan creates
// and starts a container that goes through it: the starter's process then
// starts beside the plan's first steps (its networks, the creations), not
// at the first creation with a start, which comes after them. A published
// port of a three-service chain answered sooner so (bench/compare.sh's
// row, 24 alternating rounds: medians 174.9 -> 170.9 ms, a paired
// difference of -8 ms).
func (e *Engine) Warm(plan reconcile.Plan) {
	for _, a := range plan.Actions {
		c := a.Container
		if a.Kind != reconcile.Create || c == nil || !c.Starts {
			continue
		}
		if e.runtime.WarmStarter(runtime.Config{Tty: c.Service.Tty, OpenStdin: c.Service.StdinOpen, Replayed: c.OneOff}) {
			return
		}
	}
}

// Start starts a created or stopped container from its recorded
// configuration, then runs its post_start hooks.
func (e *Engine) Start(ctx context.Context, name string) error {
	hooks, known := e.preparedHooks(name)
	end := phase.Start(name, "start.prepared")
	err := e.awaitPrestart(name, true) // its preparation's failure is its start's
	end()
	if err != nil {
		return err
	}
	end = phase.Start(name, "start.runtime")
	err = e.runtime.Restart(ctx, name)
	end()
	if err != nil {
		return err
	}
	defer phase.Start(name, "start.hooks")()
	if known { // created by this process: no need to read its record
		return e.runHookList(ctx, name, false, hooks, nil)
	}
	return e.runHooks(ctx, name, false)
}

// Status is where container name is in its life now.
func (e *Engine) Status(ctx context.Context, name string) (lifecycle.Status, error) {
	st, err := e.runtime.State(ctx, name)
	return st.Status, err
}

// Stop runs the pre_stop hooks of container name when it runs, then stops
// it: its stop signal, then SIGKILL after
// timeout. A container already stopped is left as it is.
func (e *Engine) Stop(ctx context.Context, name string, timeout time.Duration) error {
	_ = e.awaitPrestart(name, false) // a preparation in flight ends first
	if err := e.runHooks(ctx, name, true); err != nil {
		return err
	}
	return e.runtime.Stop(ctx, name, timeout)
}

// Remove stops a container (its stop signal, then SIGKILL after timeout)
// and removes everything made for it: its runtime state and writable
// layer, published ports, links, network namespace, /etc files and record.
// Its peers' /etc/hosts are the plan's RefreshHosts actions.
// Each step tolerates what is already gone, so it also cleans up after a
// failed Create.
func (e *Engine) Remove(ctx context.Context, name string, timeout time.Duration) error {
	// A preparation in flight ends first; the container it prepared goes
	// now, and its hooks with it (a creation by that name that follows
	// has its own).
	_ = e.awaitPrestart(name, true)
	e.forgetPrestart(name)
	end := phase.Start(name, "remove.hooks")
	svc, recorded, err := e.recordedService(ctx, name)
	err = e.runHookList(ctx, name, true, svc.PreStop, err)
	end()
	if err != nil {
		return err
	}
	var errs []error
	// Its network namespace is unmounted while it stops: the processes
	// in it keep it until they exit, and the kernel then deletes its links
	// (in one batch with those of every container going at once) while
	// the shim winds down and the rest goes; unplumb waits for them.
	nsGone := make(chan error, 1)
	go func() { nsGone <- network.RemoveNetNS(e.netnsPath(name)) }()
	end = phase.Start(name, "remove.stop")
	stopped, err := e.halt(ctx, name, timeout)
	if err != nil && !errors.Is(err, runtime.ErrNotFound) && !errors.Is(err, runtime.ErrNotRunning) {
		errs = append(errs, err)
	}
	end()
	if err := <-nsGone; err != nil {
		errs = append(errs, err)
	}
	// The container is down: its shim's exit and the runtime's removal
	// (which waits for it) go on while its plumbing goes.
	var rmErr error
	removed := make(chan struct{})
	go func() {
		defer close(removed)
		defer phase.Start(name, "remove.runtime")()
		if err := e.runtime.Remove(ctx, name); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			rmErr = err
		}
	}()
	end = phase.Start(name, "remove.unplumb")
	swept := func(network string) bool { return reconcile.SweptBy(ctx, network) }
	// A service that publishes no ports had no rules made for it: no
	// look at the host's rules, under the host's lock, for each.
	published := !recorded || len(svc.Ports) > 0
	if err := e.unplumb(ctx, name, published, swept); err != nil {
		errs = append(errs, err)
	}
	end()
	<-removed
	if rmErr != nil {
		errs = append(errs, rmErr)
	}
	defer phase.Start(name, "remove.last")()
	if left, err := e.runtime.List(); err == nil && len(left) == 0 {
		// The root's last container: its cgroup parent goes too.
		if err := e.runtime.RemoveCgroupParent(); err != nil {
			errs = append(errs, err)
		}
	}
	// What happened is recorded even if the user interrupts this very
	// moment: the container is down, or gone.
	record := context.WithoutCancel(ctx)
	if len(errs) > 0 {
		if len(stopped) > 0 {
			errs = append(errs, e.recordStop(record, name, stopped))
		}
		return errors.Join(errs...)
	}
	// Its stop's events and its "destroy" event with it, in one commit.
	if err := e.store.Destroyed(record, name, time.Now(), stopped...); err != nil {
		return err
	}
	e.peerChanged(ctx, name)
	return nil
}

// halt stops container name for its removal (runtime.Halt). With no
// grace it is dropped (runtime.Drop): its shim records nothing, and the
// kill, die and stop events returned are Remove's to record, with its
// destroy event.
func (e *Engine) halt(ctx context.Context, name string, timeout time.Duration) ([]store.Event, error) {
	if timeout != 0 {
		return nil, e.runtime.Halt(ctx, name, timeout)
	}
	evs, err := e.runtime.Drop(ctx, name)
	recs := make([]store.Event, len(evs))
	for i, ev := range evs {
		recs[i] = store.Event{Action: ev.Action, Attributes: ev.Attrs, Time: ev.At}
	}
	return recs, err
}

// recordStop records the events of container name's stop (see halt)
// when its removal failed after it: the container is down, its record
// stays.
func (e *Engine) recordStop(ctx context.Context, name string, evs []store.Event) error {
	if err := e.store.AddEvents(ctx, name, evs); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err // a container with no record: its shim's hook would have dropped them too
	}
	return nil
}

// WaitHealthy blocks until container name's health check passes, failing
// when it is unhealthy or the container stopped.
func (e *Engine) WaitHealthy(ctx context.Context, name string) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := e.runtime.State(ctx, name)
		if err != nil {
			return err
		}
		switch {
		case st.Health == runtime.HealthHealthy:
			return nil
		case st.Health == runtime.HealthUnhealthy:
			return fmt.Errorf("container %s is unhealthy", name)
		case st.Health == "" && st.Status == lifecycle.Running:
			return fmt.Errorf("container %s has no health check to wait for", name)
		case st.Status == lifecycle.Exited:
			return fmt.Errorf("container %s exited (%d)", name, st.ExitCode) // Docker Compose's words
		case !st.Status.Active():
			return fmt.Errorf("container %s is %s, not healthy", name, st.Status)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// settle is how long a container without a health check must have run
// to count as running for WaitReady: Docker Compose's --wait looks first
// that long after the starts, so a process that fails at once is caught.
const settle = 500 * time.Millisecond

// WaitReady blocks until container name runs (and, with a health check,
// is healthy; without one, has run for settle) or has exited, which it
// reports with the exit code; an unhealthy container is an error, as for
// Docker Compose's --wait.
func (e *Engine) WaitReady(ctx context.Context, name string) (exited bool, code int, err error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := e.runtime.State(ctx, name)
		if err != nil {
			return false, 0, err
		}
		switch {
		case st.Status == lifecycle.Exited || st.Status == lifecycle.Missing:
			return true, st.ExitCode, nil
		case st.Health == runtime.HealthUnhealthy:
			return false, 0, fmt.Errorf("container %s is unhealthy", name)
		case st.Health == runtime.HealthHealthy, st.Health == "" && st.Status == lifecycle.Running && time.Since(st.StartedAt) >= settle:
			return false, 0, nil
		}
		select {
		case <-ctx.Done():
			return false, 0, ctx.Err()
		case <-tick.C:
		}
	}
}

// Wait blocks until container name has exited and returns its exit code.
func (e *Engine) Wait(ctx context.Context, name string) (int, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := e.runtime.State(ctx, name)
		if err != nil {
			return 0, err
		}
		if st.Status == lifecycle.Exited || st.Status == lifecycle.Missing {
			return st.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
}

func (e *Engine) endpointsOf(ctx context.Context, name string) ([]store.Endpoint, error) {
	return e.store.EndpointsOf(ctx, name)
}

// ServiceContainer is the name of replica n of a project's service as
// recorded (so a container_name is honoured), or the Compose default name
// when it has not been made.
func (e *Engine) ServiceContainer(ctx context.Context, project, service string, n int) (string, error) {
	recs, err := e.store.Containers(ctx, project)
	if err != nil {
		return "", err
	}
	for _, r := range recs {
		if r.Service == service && r.Number == n {
			return r.Name, nil
		}
	}
	return spec.ContainerName(project, service, n), nil
}
