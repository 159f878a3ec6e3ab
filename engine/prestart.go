package engine

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
)

// prestarts are the containers this process prepares (runtime.Prepare)
// right after their creation, because the plan starts them once their
// dependencies have started (ContainerSpec.Prestart): the preparation,
// nearly all of a start's work, runs beside the creations and starts that
// come before theirs, so that a depends_on chain's starts, which must
// follow one another, are a few milliseconds each instead of tens.
type prestarts struct {
	mu sync.Mutex
	m  map[string]chan error // by container name: the preparation's result, once
	// postStart holds, by container name, the post_start hooks it was
	// created with, for its start to run without reading its record.
	postStart map[string][]spec.Hook
}

// prestart prepares container name, just made with runtime
// configuration cfg: its holder (the starter, or a shim of its own) is
// asked now, and the preparation goes on in the background.
func (e *Engine) prestart(ctx context.Context, name string, cfg runtime.Config, postStart []spec.Hook) {
	done := make(chan error, 1)
	e.prepared.mu.Lock()
	if e.prepared.m == nil {
		e.prepared.m, e.prepared.postStart = map[string]chan error{}, map[string][]spec.Hook{}
	}
	e.prepared.m[name] = done
	e.prepared.postStart[name] = postStart
	e.prepared.mu.Unlock()
	end := phase.Start(name, "create.prepare")
	prepared, err := e.runtime.Prepare(ctx, cfg)
	if err != nil {
		end()
		done <- err
		return
	}
	go func() {
		defer end()
		done <- prepared()
	}()
}

// preparedHooks takes the post_start hooks container name was created
// with, when this process created and prepared it (see prestart); known
// is false otherwise, and its record says.
func (e *Engine) preparedHooks(name string) (hooks []spec.Hook, known bool) {
	e.prepared.mu.Lock()
	defer e.prepared.mu.Unlock()
	hooks, known = e.prepared.postStart[name]
	delete(e.prepared.postStart, name)
	return hooks, known
}

// awaitPrestart waits for the preparation of container name, if this
// process began one, and returns its result; nil when there was none.
// With take the preparation is the caller's (a start) and forgotten.
func (e *Engine) awaitPrestart(name string, take bool) error {
	e.prepared.mu.Lock()
	done, ok := e.prepared.m[name]
	if ok && take {
		delete(e.prepared.m, name)
	}
	e.prepared.mu.Unlock()
	if !ok {
		return nil
	}
	err := <-done
	done <- err // for whoever waits next
	return err
}

// forgetPrestart drops what this process noted of container name's
// preparation (its result and its post_start hooks), for a removal or a
// creation without one: a later start of a container by that name must
// not take an earlier creation's preparation or hooks.
func (e *Engine) forgetPrestart(name string) {
	e.prepared.mu.Lock()
	delete(e.prepared.m, name)
	delete(e.prepared.postStart, name)
	e.prepared.mu.Unlock()
}

// releaseTimeout bounds the release of the preparations left at Close.
const releaseTimeout = 10 * time.Second

// releasePrestarts undoes the preparations no start took (a plan that
// failed before their starts): their containers are left created, with
// no shim, as a creation leaves them.
func (e *Engine) releasePrestarts() {
	e.prepared.mu.Lock()
	left := e.prepared.m
	e.prepared.m, e.prepared.postStart = nil, nil
	e.prepared.mu.Unlock()
	if len(left) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for name, done := range left {
		wg.Go(func() {
			if err := <-done; err != nil {
				// Its holder reported the failure and holds nothing (the
				// runtime releases a preparation whose wait was cut short).
				return
			}
			if err := e.runtime.Release(ctx, name); err != nil {
				fmt.Fprintf(os.Stderr, "berth: container %s stays prepared: %v\n", name, err)
			}
		})
	}
	wg.Wait()
}
