package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// serveMetrics serves the loop's metrics on addr; with no address there
// are none to keep.
func serveMetrics(addr string, g *globals, gf gitFlags) (LoopMetrics, func(), error) {
	if addr == "" {
		return noMetrics{}, func() {}, nil
	}
	name := g.projectName
	if gf.src.URL != "" {
		name = gf.stackName(g)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics: %w", err)
	}
	m := g.gitops.Metrics(name)
	return m, m.Serve(ln), nil
}

// noMetrics are the metrics of a loop that serves none.
type noMetrics struct{}

func (noMetrics) Pass(reconcile.Pass, time.Duration, bool)    {}
func (noMetrics) Record([]string, error, time.Duration, bool) {}
func (noMetrics) Fetched()                                    {}
func (noMetrics) Applied(string)                              {}
func (noMetrics) RolledBack()                                 {}
func (noMetrics) Serve(net.Listener) func()                   { return func() {} }

// passes follows the loop's passes: it times each, remembers the project
// it loaded, and tells drift repairs — actions of a pass whose stack is the
// previous pass's — from changes of the stack.
type passes struct {
	start     time.Time
	cur, prev []byte
	project   string
}

// wrap wraps a pass's load.
func (t *passes) wrap(load func(context.Context) (*spec.Project, error)) func(context.Context) (*spec.Project, error) {
	return func(ctx context.Context) (*spec.Project, error) {
		t.start = time.Now()
		p, err := load(ctx)
		t.cur = nil
		if err == nil {
			t.project = p.Name
			t.cur, _ = json.Marshal(p)
		}
		return p, err
	}
}

// done records the pass in m.
func (t *passes) done(p reconcile.Pass, m LoopMetrics) {
	d, drift := t.finish(p.Err == nil)
	m.Pass(p, d, drift)
}

// finish ends a pass that succeeded or not: how long it took, and whether
// what it applied repaired drift.
func (t *passes) finish(ok bool) (time.Duration, bool) {
	drift := t.cur != nil && t.prev != nil && string(t.cur) == string(t.prev)
	if t.cur != nil && ok {
		t.prev = t.cur
	}
	return time.Since(t.start), drift
}
