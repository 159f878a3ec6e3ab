package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/berth-dev/berth/metrics"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// serveMetrics serves the loop's metrics on addr; with no address the
// metrics are kept but not served.
func serveMetrics(addr string, g *globals, gf gitFlags) (*metrics.Loop, func(), error) {
	name := g.projectName
	if gf.src.URL != "" {
		name = gf.stackName(g)
	}
	m := metrics.New(name)
	if addr == "" {
		return m, func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics: %w", err)
	}
	return m, m.Serve(ln), nil
}

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
func (t *passes) done(p reconcile.Pass, m *metrics.Loop) {
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
