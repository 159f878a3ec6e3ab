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

// timed wraps a pass's load to time the pass and to tell drift repairs —
// actions of a pass whose stack is the previous pass's — from changes of
// the stack.
func timed(load func(context.Context) (*spec.Project, error)) (func(context.Context) (*spec.Project, error), func(reconcile.Pass, *metrics.Loop)) {
	var start time.Time
	var cur, prev []byte
	wrapped := func(ctx context.Context) (*spec.Project, error) {
		start = time.Now()
		p, err := load(ctx)
		cur = nil
		if err == nil {
			cur, _ = json.Marshal(p)
		}
		return p, err
	}
	done := func(p reconcile.Pass, m *metrics.Loop) {
		drift := cur != nil && prev != nil && string(cur) == string(prev)
		m.Pass(p, time.Since(start), drift)
		if cur != nil && p.Err == nil {
			prev = cur
		}
	}
	return wrapped, done
}
