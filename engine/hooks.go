package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// recordedHooks are the post_start (pre false) or pre_stop hooks of
// container name, from the service spec recorded with it; none when it
// has no record (a creation that failed).
func (e *Engine) recordedHooks(ctx context.Context, name string, pre bool) ([]spec.Hook, error) {
	svc, _, err := e.recordedService(ctx, name)
	if pre {
		return svc.PreStop, err
	}
	return svc.PostStart, err
}

// recordedService is the service spec recorded with container name; ok
// is false when it has no record (a creation that failed).
func (e *Engine) recordedService(ctx context.Context, name string) (svc spec.Service, ok bool, err error) {
	rec, err := e.store.Container(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return svc, false, nil
	}
	if err != nil {
		return svc, false, err
	}
	if svc, err = e.parsed.parse(rec.Spec); err != nil {
		return svc, false, fmt.Errorf("reading the recorded spec of %s: %w", name, err)
	}
	return svc, true, nil
}

// runHooks runs container name's post_start or pre_stop hooks in order,
// as Docker Compose does: each as docker exec would run it, in the
// container, and a hook that fails or exits with a status other than 0
// ends the step with an error.
func (e *Engine) runHooks(ctx context.Context, name string, pre bool) error {
	hooks, err := e.recordedHooks(ctx, name, pre)
	return e.runHookList(ctx, name, pre, hooks, err)
}

// runHookList is runHooks with the hooks already read (err: why they
// could not be).
func (e *Engine) runHookList(ctx context.Context, name string, pre bool, hooks []spec.Hook, err error) error {
	if err == nil && len(hooks) == 0 {
		return nil // the common case: nothing to run, no need to ask the shim
	}
	which := "post_start"
	if pre {
		which = "pre_stop"
		if st, err := e.runtime.State(ctx, name); err != nil || st.Status != lifecycle.Running {
			return nil // nothing runs to run it in: the stop has nothing to do either
		}
	}
	if err != nil {
		return fmt.Errorf("%s hooks of %s: %w", which, name, err)
	}
	for _, h := range hooks {
		code, err := e.Exec(ctx, name, ExecOptions{Args: h.Command, User: h.User, WorkingDir: h.WorkingDir,
			Privileged: h.Privileged, Env: hookEnv(h.Environment)})
		if err != nil {
			return fmt.Errorf("%s hook of %s: %w", which, name, err)
		}
		if code != 0 {
			return fmt.Errorf("%s hook of %s exited with status %d", which, name, code)
		}
	}
	return nil
}

// hookEnv is a hook's environment as exec takes it, sorted.
func hookEnv(env map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}
