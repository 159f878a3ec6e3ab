package engine

import (
	"sync"

	"github.com/berth-dev/berth/spec"
)

// parsedSpecs keeps the services parsed from containers' recorded specs,
// by the recorded text: readPeers, which every Create calls and which
// reads every container of the host, then parses each record once per
// command instead of once per creation (n² parses for an up of n). The
// services it returns are shared: for reading only.
type parsedSpecs struct {
	mu sync.Mutex
	m  map[string]spec.Service
}

// parse is spec.ParseCanonical(raw), from the cache when raw was parsed
// before.
func (p *parsedSpecs) parse(raw []byte) (spec.Service, error) {
	p.mu.Lock()
	svc, ok := p.m[string(raw)]
	p.mu.Unlock()
	if ok {
		return svc, nil
	}
	svc, err := spec.ParseCanonical(raw)
	if err != nil {
		return svc, err
	}
	p.mu.Lock()
	if p.m == nil {
		p.m = map[string]spec.Service{}
	}
	p.m[string(raw)] = svc
	p.mu.Unlock()
	return svc, nil
}
