package loader

// berth: a file's schema validation runs beside the rest of its load
// (see PATCH.md).

import (
	"context"
	"fmt"
	"sync"

	"github.com/compose-spec/compose-go/v2/schema"
)

// validations are the schema checks a load started and has not waited
// for: a load copies each model it validates and goes on while the copy
// is checked, and its result gives way to the first check that failed.
type validations struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error // one per check, in the order they started
}

type validationsKey struct{}

// withValidations gives a load a set of validations of its own.
func withValidations(ctx context.Context) (context.Context, *validations) {
	v := &validations{}
	return context.WithValue(ctx, validationsKey{}, v), v
}

// validate checks dict, a model of filename, against the schema: beside
// the load when ctx holds its validations, at once otherwise.
func validate(ctx context.Context, filename string, dict map[string]any) error {
	v, ok := ctx.Value(validationsKey{}).(*validations)
	if !ok {
		if err := schema.Validate(dict); err != nil {
			return fmt.Errorf("validating %s: %w", filename, err)
		}
		return nil
	}
	raw, err := schema.Copy(dict)
	if err != nil {
		return fmt.Errorf("validating %s: %w", filename, err)
	}
	v.mu.Lock()
	i := len(v.errs)
	v.errs = append(v.errs, nil)
	v.mu.Unlock()
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		if err := schema.ValidateCopy(raw); err != nil {
			v.mu.Lock()
			v.errs[i] = fmt.Errorf("validating %s: %w", filename, err)
			v.mu.Unlock()
		}
	}()
	return nil
}

// settle, deferred by a load, waits for its validations. When one failed,
// it is the load's error (*err, and drop clears the load's result),
// whatever the load did meanwhile with a model it took for valid: an
// error of its own, or a panic. Otherwise the load's own result, error
// or panic stand.
func (v *validations) settle(err *error, drop func()) {
	r := recover()
	v.wg.Wait()
	for _, verr := range v.errs {
		if verr != nil {
			*err = verr
			drop()
			return
		}
	}
	if r != nil {
		panic(r)
	}
}
