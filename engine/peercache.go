package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/berth-dev/berth/store"
)

// sharedPeers is what /etc/hosts files are made from (peers), read from
// the store once for the creations this process runs at once, instead of
// once per creation (every container of the host read by each of n
// creations: n² rows, and the store's one connection held for them while
// the other creations wait for it). Each creation adds itself (its
// record, addresses and published ports) when it writes its files, a
// removal takes its container out, and the snapshot goes when the last
// creation ends: the next command or burst reads the host afresh.
// What other processes change meanwhile is not seen until the plan's
// RefreshHosts, which reads the host afresh after every creation, as a
// creation's file could already miss what was made after it was written.
type sharedPeers struct {
	mu   sync.Mutex
	busy int    // creations in flight
	p    *peers // the snapshot; nil: read at the next use
	// made holds, by name, the records this process's creations in
	// flight put (see creating): a creation's refresh of itself takes its
	// record from there instead of reading it back.
	made map[string]store.Container
	// reads counts the whole-host reads, for tests.
	reads int
}

// holdPeers marks a creation in flight; the returned release ends it.
func (e *Engine) holdPeers() (release func()) {
	s := &e.shared
	s.mu.Lock()
	s.busy++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.busy--; s.busy == 0 {
			s.p = nil
		}
		s.mu.Unlock()
	}
}

// withPeers calls render with the host's peers, self among them as the
// store has it now (its record as its creation put it, if in flight:
// see creating): from the snapshot while creations are in flight (read
// first when there is none), else read afresh.
func (e *Engine) withPeers(ctx context.Context, self string, render func(*peers) error) error {
	s := &e.shared
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil || s.busy == 0 {
		p, err := e.readPeers(ctx)
		if err != nil {
			return err
		}
		if r, ok := s.made[self]; ok { // as its creation put it, with the endpoints and ports just read
			if err := e.addPeer(p, r); err != nil {
				return err
			}
		}
		s.reads++
		if s.busy > 0 {
			s.p = p
		}
		return render(p)
	}
	if err := e.refreshPeer(ctx, s.p, self); err != nil {
		return err
	}
	return render(s.p)
}

// creating remembers rec, the record a creation in flight has just put
// (Create), until done: the creation's own refresh (refreshPeer) takes it
// from there. It is the record this creation made, even if another
// process has replaced it since.
func (e *Engine) creating(rec store.Container) (done func()) {
	s := &e.shared
	s.mu.Lock()
	if s.made == nil {
		s.made = map[string]store.Container{}
	}
	s.made[rec.Name] = rec
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.made, rec.Name)
		s.mu.Unlock()
	}
}

// refreshPeer puts container name into p as the store records it now:
// its record (the one a creation in flight of this process put, else
// read), its endpoints and whether it holds published ports (lookups by
// name). A container with no record leaves p. The caller holds
// e.shared.mu.
func (e *Engine) refreshPeer(ctx context.Context, p *peers, name string) error {
	r, ok := e.shared.made[name]
	if !ok {
		var err error
		r, err = e.store.Container(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			p.forget(name)
			return nil
		}
		if err != nil {
			return err
		}
	}
	eps, err := e.store.EndpointsOf(ctx, name)
	if err != nil {
		return err
	}
	ports, err := e.store.Ports(ctx, name)
	if err != nil {
		return err
	}
	p.forget(name)
	if err := e.addPeer(p, r); err != nil {
		return err
	}
	p.eps = append(p.eps, eps...)
	p.published[name] = len(ports) > 0
	return nil
}

// addPeer puts record r's service, project, hostname and one-off mark
// into p.
func (e *Engine) addPeer(p *peers, r store.Container) error {
	svc, err := e.parsed.parse(r.Spec)
	if err != nil {
		return fmt.Errorf("reading the recorded spec of %s: %w", r.Name, err)
	}
	p.services[r.Name], p.projects[r.Name], p.hostnames[r.Name] = svc, r.Project, hostname(svc, r.ID)
	p.oneOff[r.Name] = r.Labels[labelOneOff] == "True"
	return nil
}

// forget takes container name out of p.
func (p *peers) forget(name string) {
	delete(p.services, name)
	delete(p.projects, name)
	delete(p.hostnames, name)
	delete(p.oneOff, name)
	delete(p.published, name)
	kept := p.eps[:0]
	for _, ep := range p.eps {
		if ep.Container != name {
			kept = append(kept, ep)
		}
	}
	p.eps = kept
}

// peerChanged tells the snapshot, if there is one, that this process
// changed what the store records of container name (removed it,
// published or moved its ports): it is read again by name, or taken out.
func (e *Engine) peerChanged(ctx context.Context, name string) {
	s := &e.shared
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return
	}
	if err := e.refreshPeer(ctx, s.p, name); err != nil {
		s.p = nil // read whole at the next use
	}
}

// dropPeers drops the snapshot, if there is one: this process changed
// more than one container's peers (a network made or removed).
func (e *Engine) dropPeers() {
	e.shared.mu.Lock()
	e.shared.p = nil
	e.shared.mu.Unlock()
}
