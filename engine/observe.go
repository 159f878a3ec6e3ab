package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// Observe reads what berth has on the host for project p: its recorded
// containers with their live state, every network and volume the project
// refers to or recorded, and the local image of every service.
func (e *Engine) Observe(ctx context.Context, p *spec.Project) (reconcile.Observed, error) {
	obs := reconcile.Observed{Networks: map[string]reconcile.Presence{}, Volumes: map[string]reconcile.Presence{}, Images: map[string]string{}}
	recs, err := e.Store.Containers(ctx, p.Name)
	if err != nil {
		return obs, err
	}
	// Each state is a round trip to the container's shim: ask them all at once.
	obs.Containers = make([]reconcile.Container, len(recs))
	errs := make([]error, len(recs))
	var wg sync.WaitGroup
	for i, r := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs.Containers[i], errs[i] = e.observeContainer(ctx, r)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return obs, err
	}
	nets, err := e.Store.Networks(ctx, "")
	if err != nil {
		return obs, err
	}
	byName := map[string]store.Network{}
	for _, n := range nets {
		byName[n.Name] = n
		if n.Project == p.Name {
			obs.Networks[n.Name] = reconcile.Presence{}
		}
	}
	for _, n := range p.Networks {
		obs.Networks[n.Name] = reconcile.Presence{}
	}
	for name := range obs.Networks {
		rec, ok := byName[name]
		pr := reconcile.Presence{Recorded: ok && rec.Project == p.Name}
		if ok {
			if pr.Exists, err = e.Net.BridgeExists(rec.Bridge); err != nil {
				return obs, err
			}
		}
		obs.Networks[name] = pr
	}
	vols, err := e.Store.Volumes(ctx, "")
	if err != nil {
		return obs, err
	}
	recorded := map[string]bool{}
	for _, v := range vols {
		if v.Project == p.Name {
			recorded[v.Name] = true
		}
	}
	for _, v := range p.Volumes {
		recorded[v.Name] = recorded[v.Name] && !v.External
	}
	for name, rec := range recorded {
		obs.Volumes[name] = reconcile.Presence{Recorded: rec, Exists: e.Volumes.Exists(name)}
	}
	for _, v := range p.Volumes {
		if _, ok := obs.Volumes[v.Name]; !ok {
			obs.Volumes[v.Name] = reconcile.Presence{Exists: e.Volumes.Exists(v.Name)}
		}
	}
	for _, s := range p.Services {
		if _, seen := obs.Images[s.Image]; seen {
			continue
		}
		img, err := e.Images.Get(s.Image)
		if errors.Is(err, image.ErrNotFound) {
			continue
		}
		if err != nil {
			return obs, fmt.Errorf("service %q: looking up image %q: %w", s.Name, s.Image, err)
		}
		obs.Images[s.Image] = img.ID
	}
	return obs, nil
}

func (e *Engine) observeContainer(ctx context.Context, r store.Container) (reconcile.Container, error) {
	svc, err := spec.ParseCanonical(r.Spec)
	if err != nil {
		return reconcile.Container{}, fmt.Errorf("reading the recorded spec of %s: %w", r.Name, err)
	}
	c := reconcile.Container{Name: r.Name, Service: r.Service, Number: r.Number, Hash: r.ConfigHash, ImageID: r.ImageID, Spec: svc}
	st, err := e.Runtime.State(ctx, r.Name)
	if err != nil {
		return c, fmt.Errorf("reading the state of %s: %w", r.Name, err)
	}
	c.State, c.ExitCode = st.Status, st.ExitCode
	return c, nil
}
