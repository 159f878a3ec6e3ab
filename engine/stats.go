package engine

import (
	"context"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
)

// Usage is one sample of a container's resource use.
type Usage = runtime.Usage

// HostUsage is the host's side of a stats sample: its CPU time, CPUs and memory.
type HostUsage = runtime.HostUsage

// ContainerStats is one container's stats sample.
type ContainerStats struct {
	ID, Name, Service string
	Running           bool // its init lives (a paused one too); a stopped one has a zero Usage
	Usage             Usage
}

// statsWorkers bounds how many containers are sampled at once.
const statsWorkers = 16

// Stats samples the resource use of a project's containers (of the named
// services only, when any are named) and the host's, all at once.
func (e *Engine) Stats(ctx context.Context, project string, services []string) (HostUsage, []ContainerStats, error) {
	recs, err := e.store.Containers(ctx, project)
	if err != nil {
		return HostUsage{}, nil, err
	}
	recs = slices.DeleteFunc(recs, func(r store.Container) bool { return len(services) > 0 && !slices.Contains(services, r.Service) })
	out := make([]ContainerStats, len(recs))
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(statsWorkers)
	for i, r := range recs {
		out[i] = ContainerStats{ID: r.ID, Name: r.Name, Service: r.Service}
		g.Go(func() error {
			u, running, err := e.runtime.Stats(r.Name)
			out[i].Usage, out[i].Running = u, running
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return HostUsage{}, nil, err
	}
	host, err := runtime.Host()
	return host, out, err
}
