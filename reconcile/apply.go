package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// Images fetches and uploads images.
type Images interface {
	Pull(ctx context.Context, ref, platform string) error
	Push(ctx context.Context, ref string) error
	Untag(ctx context.Context, ref, id string) error // ref "" is the image's untagged entry
	// Collect deletes the layers no image entry and no container needs,
	// and says how many bytes that freed.
	Collect(ctx context.Context) (freed int64, err error)
}

// Networks makes and removes project networks.
type Networks interface {
	CreateNetwork(ctx context.Context, project, key string, n spec.Network) error
	RemoveNetwork(ctx context.Context, name string) error
}

// Volumes makes and removes named volumes.
type Volumes interface {
	CreateVolume(ctx context.Context, project, key string, v spec.Volume) error
	// Fill copies what image holds at path into volume name if the volume
	// is still empty; a volume with data is left as it is.
	Fill(ctx context.Context, name, image, path string) error
	RemoveVolume(ctx context.Context, name string) error
}

// Containers makes, starts, stops, signals, pauses, waits for and removes
// containers.
type Containers interface {
	Create(ctx context.Context, c ContainerSpec) error // make the container, not yet started
	Start(ctx context.Context, name string) error
	Stop(ctx context.Context, name string, timeout time.Duration) error   // its stop signal, then SIGKILL after timeout
	Remove(ctx context.Context, name string, timeout time.Duration) error // stop with grace, then remove
	Kill(ctx context.Context, name string, sig lifecycle.Signal) error    // send sig to its init
	Pause(ctx context.Context, name string) error                         // freeze its processes
	Unpause(ctx context.Context, name string) error                       // thaw them
	Wait(ctx context.Context, name string) (exitCode int, err error)
	WaitHealthy(ctx context.Context, name string) error
	// WaitReady blocks until the container runs, and is healthy when it
	// has a health check, or has exited (then exited is true, with its
	// code); an unhealthy container is an error.
	WaitReady(ctx context.Context, name string) (exited bool, exitCode int, err error)
	RefreshHosts(ctx context.Context, project string) error
	// Restore makes again what a stopped container had under the run root
	// (network namespace and links at its recorded addresses, /etc and
	// config files, published ports), as after a reboot.
	Restore(ctx context.Context, c ContainerSpec) error
	UpdateLimits(ctx context.Context, c ContainerSpec) error // c's limits on its container, in place
	// SwitchPorts moves the published ports of container from to the
	// start-first successor to, in one step: no moment when they lead
	// nowhere.
	SwitchPorts(ctx context.Context, from string, to ContainerSpec) error
	// RecordContents records the contents' digests of c (Contents) as
	// those its container mounts, without making it anew.
	RecordContents(ctx context.Context, c ContainerSpec) error
	// Drain waits until the connections container name serves have
	// ended, at most limit: what is left then is cut by its stop.
	Drain(ctx context.Context, name string, limit time.Duration) error
}

// Drivers are what Apply acts through.
type Drivers struct {
	Images     Images
	Networks   Networks
	Volumes    Volumes
	Containers Containers
	Builder    Builder
	// Parallel is how many actions the host takes at once when Apply is
	// given no limit (--parallel, COMPOSE_PARALLEL_LIMIT); 0: Apply's
	// default.
	Parallel int
}

// Status is where an action is.
type Status string

// Action statuses reported by Apply.
const (
	Started Status = "started"
	Done    Status = "done"
	Failed  Status = "failed"
	Skipped Status = "skipped"
	Kept    Status = "kept"
)

// ErrKept marks an object a driver declined to remove because something
// outside the plan still uses it (a network another project's container is
// attached to). Apply reports it and carries on: it is not a failure.
var ErrKept = errors.New("kept")

// Event reports an action's progress.
type Event struct {
	Action  Action
	Status  Status
	Err     error
	Elapsed time.Duration
	Freed   int64 // bytes a done CollectImages freed
}

// ErrDependency marks an action skipped because one it needs failed.
var ErrDependency = errors.New("a dependency failed")

// Apply carries out a plan: each action once all in its After list have
// succeeded, independent ones in parallel (at most parallel at once; 0
// means d.Parallel, else the default: 8 at once, but any number of the
// actions that mostly wait). It makes no decisions. events, if not nil,
// is called for every status change, never concurrently. It returns every
// failure, joined.
func Apply(ctx context.Context, p Plan, d Drivers, parallel int, events func(Event)) error {
	if parallel <= 0 {
		parallel = d.Parallel
	}
	given := parallel > 0
	if !given {
		parallel = 8
	}
	var mu sync.Mutex
	emit := func(e Event) {
		if events != nil {
			mu.Lock()
			events(e)
			mu.Unlock()
		}
	}
	done := make(map[string]chan struct{}, len(p.Actions))
	errs := make(map[string]error, len(p.Actions))
	for _, a := range p.Actions {
		done[a.ID] = make(chan struct{})
	}
	sem := make(chan struct{}, parallel)
	run := runners(min(parallel, len(p.Actions)))
	defer close(run)
	var wg sync.WaitGroup
	for _, a := range p.Actions {
		wg.Add(1)
		go func(a Action) {
			defer wg.Done()
			defer close(done[a.ID])
			anyFailed := false
			for _, dep := range a.After {
				ch, ok := done[dep]
				if !ok {
					continue
				}
				<-ch
				mu.Lock()
				failed := errs[dep] != nil
				mu.Unlock()
				anyFailed = anyFailed || failed
				if failed && !a.Regardless && !slices.Contains(a.Soft, dep) && !a.OnFailure {
					err := fmt.Errorf("%s: %w (%s)", a.Describe(), ErrDependency, dep)
					mu.Lock()
					errs[a.ID] = err
					mu.Unlock()
					emit(Event{Action: a, Status: Skipped, Err: err})
					return
				}
			}
			if a.OnFailure && !anyFailed {
				return // a rollback with nothing to roll back
			}
			queued := time.Now()
			bounded := given || !mostlyWaits(a.Kind)
			if bounded {
				sem <- struct{}{}
				defer func() { <-sem }()
			}
			emit(Event{Action: a, Status: Started})
			start := time.Now()
			phase.Record(a.Target, "apply.queued", queued, start.Sub(queued))
			var freed int64
			var err error
			ran := make(chan struct{})
			returned := false
			work := func() {
				defer func() {
					if !returned && bounded { // runtime.Goexit (t.FailNow in a test's driver): this runner is gone
						go runner(run)
					}
					close(ran)
				}()
				freed, err = do(ctx, p.Project, a, d)
				returned = true
			}
			if bounded {
				run <- work
			} else {
				go work()
			}
			<-ran
			if !returned {
				err = errExited
			}
			phase.Record(a.Target, "apply."+string(a.Kind), start, time.Since(start))
			if changesHost(a.Kind) {
				hostChanged()
			}
			if err != nil {
				err = fmt.Errorf("%s: %w", a.Describe(), err)
			}
			st := Done
			switch {
			case errors.Is(err, ErrKept):
				st = Kept
			case err != nil && a.Optional && ctx.Err() == nil:
				st = Skipped // a warning: no dependent requires it
			case err != nil:
				st = Failed
			}
			mu.Lock()
			if st == Failed {
				errs[a.ID] = err
			}
			mu.Unlock()
			emit(Event{Action: a, Status: st, Err: err, Elapsed: time.Since(start), Freed: freed})
		}(a)
	}
	wg.Wait()
	var all []error
	for _, a := range p.Actions {
		if err := errs[a.ID]; err != nil && !errors.Is(err, ErrDependency) {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// mostlyWaits reports whether actions of kind k mostly wait rather than use the
// CPU: on a container's exit, health or readiness, a delay or a drain, or
// on its shim and the kernel taking it down (the namespace's and cgroups'
// clean-up, RCU grace periods). The default limit holds back the work
// that competes for the CPU (creations, starts, builds, pulls), not these
// (a down -t 0 of 50 services: 410 -> 379 ms, a cold up of 50 level), as
// Docker Compose bounds nothing by default; a limit given bounds every
// action.
func mostlyWaits(k Kind) bool {
	switch k {
	case Stop, Remove, RemoveNetwork, WaitExit, WaitHealthy, WaitReady, Delay, Drain:
		return true
	}
	return false
}

// runners starts n goroutines that run the functions sent on the
// returned channel, one at a time each, until it is closed. Apply's
// actions run on them (at most n hold its semaphore at once) rather than
// on the goroutine of each action: an action's work (a container's
// creation) grows a goroutine's stack to tens of kilobytes, a copy at
// each doubling, which n goroutines do once instead of every action.
// Apply starts no more of them than it has actions.
func runners(n int) chan func() {
	run := make(chan func())
	for i := 0; i < n; i++ {
		go runner(run)
	}
	return run
}

// runner runs the functions sent on run until it is closed.
func runner(run <-chan func()) {
	for f := range run {
		f()
	}
}

// errExited is an action's error when its driver ended the goroutine it
// ran on (runtime.Goexit) rather than return.
var errExited = errors.New("its goroutine exited before the action returned")

// do performs one action through the drivers.
func do(ctx context.Context, project string, a Action, d Drivers) (freed int64, err error) {
	switch a.Kind {
	case CollectImages:
		return d.Images.Collect(ctx)
	case Untag:
		return 0, d.Images.Untag(ctx, a.Image.Ref, a.Image.ID)
	case Pull:
		return 0, d.Images.Pull(ctx, a.Target, a.Platform)
	case Push:
		return 0, d.Images.Push(ctx, a.Target)
	case Build:
		return 0, d.Builder.Build(ctx, *a.Build)
	case Stop:
		return 0, d.Containers.Stop(ctx, a.Target, a.Timeout)
	case Kill:
		return 0, d.Containers.Kill(ctx, a.Target, *a.Signal)
	case Pause:
		return 0, d.Containers.Pause(ctx, a.Target)
	case Unpause:
		return 0, d.Containers.Unpause(ctx, a.Target)
	case CreateNetwork:
		return 0, d.Networks.CreateNetwork(ctx, project, a.Key, *a.Network)
	case CreateVolume:
		return 0, d.Volumes.CreateVolume(ctx, project, a.Key, *a.Volume)
	case FillVolume:
		return 0, d.Volumes.Fill(ctx, a.Target, a.Fill.Image, a.Fill.Path)
	case Create:
		return 0, d.Containers.Create(ctx, *a.Container)
	case Start:
		return 0, d.Containers.Start(ctx, a.Target)
	case Restore:
		return 0, d.Containers.Restore(ctx, *a.Container)
	case UpdateLimits:
		return 0, d.Containers.UpdateLimits(ctx, *a.Container)
	case RecordContents:
		return 0, d.Containers.RecordContents(ctx, *a.Container)
	case Drain:
		return 0, d.Containers.Drain(ctx, a.Target, a.Timeout)
	case WaitExit, WaitHealthy, WaitReady:
		return 0, wait(ctx, a, d.Containers)
	case RefreshHosts:
		return 0, d.Containers.RefreshHosts(ctx, a.Target)
	case SwitchPorts:
		return 0, d.Containers.SwitchPorts(ctx, a.Replaces, *a.Container)
	case Delay:
		if !sleep(ctx, a.Timeout) {
			return 0, ctx.Err()
		}
		return 0, nil
	case Remove:
		return 0, d.Containers.Remove(withSweptBy(ctx, a.SweptBy), a.Target, a.Timeout)
	case RemoveNetwork:
		return 0, d.Networks.RemoveNetwork(ctx, a.Target)
	case RemoveVolume:
		return 0, d.Volumes.RemoveVolume(ctx, a.Target)
	}
	return 0, fmt.Errorf("unknown action kind %q", a.Kind)
}

// wait carries out a wait action, within its timeout when it has one.
func wait(ctx context.Context, a Action, c Containers) error {
	if a.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.Timeout)
		defer cancel()
	}
	var err error
	switch a.Kind {
	case WaitExit:
		var code int
		code, err = c.Wait(ctx, a.Target)
		if err == nil && code != 0 {
			err = fmt.Errorf("%q didn't complete successfully: exit %d", a.Service, code)
			if a.Optional {
				return fmt.Errorf("optional dependency %w", err)
			}
			return fmt.Errorf("service %w", err)
		}
	case WaitHealthy:
		if err = c.WaitHealthy(ctx, a.Target); err != nil && ctx.Err() == nil {
			if a.Optional {
				return fmt.Errorf("optional dependency %q failed to start: %w", a.Service, err)
			}
			return fmt.Errorf("dependency failed to start: %w", err)
		}
	case WaitReady:
		var exited bool
		var code int
		exited, code, err = c.WaitReady(ctx, a.Target)
		if err == nil && exited && !(a.Completes && code == 0) {
			err = fmt.Errorf("container %s exited (%d)", a.Target, code)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) && a.Timeout > 0 {
		return fmt.Errorf("application not healthy after %s", a.Timeout)
	}
	return err
}

// sleep waits d, or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
