// Package gitopscli links what reconcile needs to follow a stack in git
// and to serve its metrics — package gitfollow, on go-git, and package
// metrics, on the Prometheus client — into berth's command line:
// berth-gitops and berth-kube run it with Runner, and berth, which links
// neither, execs berth-gitops for reconcile --git and --metrics.
package gitopscli

import (
	"context"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/gitfollow"
	"github.com/berth-dev/berth/gitops"
	"github.com/berth-dev/berth/metrics"
	"github.com/berth-dev/berth/spec"
)

// Runner is compose.GitOps with packages gitfollow and metrics.
type Runner struct{}

// Follow opens the follower with gitfollow.Open and tells ev the commit
// the host runs, if one was applied before.
func (Runner) Follow(dir, name string, src gitops.Source, load func(ctx context.Context, dir string) (*spec.Project, error), ev compose.FollowEvents) (compose.Follower, error) {
	f, err := gitfollow.Open(dir, name, src, load)
	if err != nil {
		return nil, err
	}
	f.OnFail, f.OnFetch, f.OnApply = ev.NotApplied, ev.Fetched, ev.Applied
	if c := f.AppliedCommit(); c != "" {
		ev.Applied(c)
	}
	return f, nil
}

// Metrics are metrics.New's.
func (Runner) Metrics(project string) compose.LoopMetrics { return metrics.New(project) }
