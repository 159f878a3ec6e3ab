package compose

import (
	"context"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// dryRun carries out every action of a plan by doing nothing, for
// --dry-run: the command plans as it would and shows each step, and the
// host is left as it is (Docker Compose's dry-run client, with berth's
// plan behind it).
type dryRun struct{}

// dryRunDrivers are the drivers of --dry-run.
func dryRunDrivers() reconcile.Drivers {
	return reconcile.Drivers{Images: dryRun{}, Networks: dryRun{}, Volumes: dryRun{}, Containers: dryRun{}, Builder: dryRun{}}
}

func (dryRun) Pull(context.Context, string, string) error                         { return nil }
func (dryRun) Push(context.Context, string) error                                 { return nil }
func (dryRun) Untag(context.Context, string, string) error                        { return nil }
func (dryRun) Collect(context.Context) (int64, error)                             { return 0, nil }
func (dryRun) CreateNetwork(context.Context, string, string, spec.Network) error  { return nil }
func (dryRun) RemoveNetwork(context.Context, string) error                        { return nil }
func (dryRun) CreateVolume(context.Context, string, string, spec.Volume) error    { return nil }
func (dryRun) Fill(context.Context, string, string, string) error                 { return nil }
func (dryRun) RemoveVolume(context.Context, string) error                         { return nil }
func (dryRun) Create(context.Context, reconcile.ContainerSpec) error              { return nil }
func (dryRun) Start(context.Context, string) error                                { return nil }
func (dryRun) Stop(context.Context, string, time.Duration) error                  { return nil }
func (dryRun) Remove(context.Context, string, time.Duration) error                { return nil }
func (dryRun) Kill(context.Context, string, lifecycle.Signal) error               { return nil }
func (dryRun) Pause(context.Context, string) error                                { return nil }
func (dryRun) Unpause(context.Context, string) error                              { return nil }
func (dryRun) Wait(context.Context, string) (int, error)                          { return 0, nil }
func (dryRun) WaitHealthy(context.Context, string) error                          { return nil }
func (dryRun) WaitReady(context.Context, string) (bool, int, error)               { return false, 0, nil }
func (dryRun) RefreshHosts(context.Context, string) error                         { return nil }
func (dryRun) Build(context.Context, reconcile.BuildSpec) error                   { return nil }
func (dryRun) Restore(context.Context, reconcile.ContainerSpec) error             { return nil }
func (dryRun) UpdateLimits(context.Context, reconcile.ContainerSpec) error        { return nil }
func (dryRun) SwitchPorts(context.Context, string, reconcile.ContainerSpec) error { return nil }
func (dryRun) RecordContents(context.Context, reconcile.ContainerSpec) error      { return nil }
func (dryRun) Drain(context.Context, string, time.Duration) error                 { return nil }
