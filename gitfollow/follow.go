package gitfollow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/berth-dev/berth/gitops"
	"github.com/berth-dev/berth/gitsource"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// Loader loads the stack whose files are in dir; the files its errors name
// are relative to dir's parent (dir/compose.yaml is named
// "<base of dir>/compose.yaml").
type Loader func(ctx context.Context, dir string) (*spec.Project, error)

// Follower follows one stack of a repository.
type Follower struct {
	src  gitops.Source
	dir  string // the follower's state: repository copy, live stack, status
	load Loader
	// OnFail, when set, is told of each commit that is not applied;
	// OnFetch of each successful fetch; OnApply of each commit applied.
	OnFail  func(error)
	OnFetch func()
	OnApply func(commit string)

	mu      sync.Mutex
	repo    *gitsource.Repo
	pending plumbing.Hash // the commit of the pass under way, when it is new
	applied plumbing.Hash // the commit the live copy holds and the host runs
	failed  plumbing.Hash // the last commit that did not load or apply
	status  gitops.Status
}

// Open opens (or starts) the state of a follower in dir, named name; the
// live stack is dir/name, so a project without `name:` is named name.
func Open(dir, name string, src gitops.Source, load Loader) (*Follower, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	repo, err := gitsource.Open(filepath.Join(dir, "repo.git"), src)
	if err != nil {
		return nil, err
	}
	f := &Follower{src: src, dir: dir, load: load, repo: repo}
	f.status, _ = gitops.ReadStatus(dir) // a missing or torn status starts afresh
	f.status.Name, f.status.URL, f.status.Ref, f.status.Path = name, gitops.Redact(src.URL), src.Ref, src.Path
	if f.status.Applied != "" {
		f.applied = plumbing.NewHash(f.status.Applied)
	}
	if f.status.Failed != nil {
		f.failed = plumbing.NewHash(f.status.Failed.Commit)
	}
	return f, nil
}

// AppliedCommit is the commit the host runs, "" before the first.
func (f *Follower) AppliedCommit() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status.Applied
}

// Live is the directory of the live copy of the stack.
func (f *Follower) Live() string { return filepath.Join(f.dir, f.status.Name) }

// Load is the reconcile loop's load: it fetches, and returns the project
// of the commit the pass should converge to.
func (f *Follower) Load(ctx context.Context) (*spec.Project, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = plumbing.ZeroHash
	f.status.LastFetch = time.Now().UTC()
	head, err := f.repo.Fetch(ctx)
	if err != nil {
		if f.applied.IsZero() {
			return nil, err
		}
		// The host keeps converging to what it runs while the remote is away.
		f.status.FetchError = err.Error()
		return f.loadLive(ctx)
	}
	f.status.FetchError = ""
	if f.OnFetch != nil {
		f.OnFetch()
	}
	if head == f.applied || head == f.failed {
		return f.loadLive(ctx)
	}
	commit, err := f.repo.Describe(head)
	if err != nil {
		return nil, err
	}
	if err := f.try(ctx, commit); err != nil {
		f.fail(commit, err)
		if f.applied.IsZero() {
			return nil, err
		}
		return f.loadLive(ctx)
	}
	f.pending = head
	return f.loadLive(ctx)
}

// try exports commit beside the live copy, loads it there and, when it
// loads, makes it the live copy.
func (f *Follower) try(ctx context.Context, c gitsource.Commit) error {
	next := f.Live() + ".try"
	if err := f.repo.Export(c.Hash, next); err != nil {
		return f.named(c, err)
	}
	_, err := f.load(ctx, next)
	if err != nil {
		os.RemoveAll(next)
		return f.named(c, errors.New(strings.ReplaceAll(err.Error(), filepath.Base(next)+"/", f.inRepo(""))))
	}
	os.RemoveAll(next)
	if err := f.repo.Export(c.Hash, f.Live()); err != nil {
		return f.named(c, err)
	}
	return nil
}

// named prefixes an error with the commit it is about.
func (f *Follower) named(c gitsource.Commit, err error) error {
	return fmt.Errorf("commit %s (%s): %w", c.Short(), c.Subject, err)
}

// inRepo is the path of a stack file as the repository names it.
func (f *Follower) inRepo(name string) string {
	p := strings.Trim(f.src.Path, "/")
	if p == "" {
		return name
	}
	return p + "/" + name
}

func (f *Follower) loadLive(ctx context.Context) (*spec.Project, error) {
	if f.applied.IsZero() && f.pending.IsZero() {
		return nil, errors.New("no commit of the repository has been applied yet")
	}
	return f.load(ctx, f.Live())
}

// fail remembers c as failed and puts the applied commit back live.
func (f *Follower) fail(c gitsource.Commit, err error) {
	f.failed = c.Hash
	if f.OnFail != nil {
		f.OnFail(err)
	}
	f.status.Failed = &gitops.Failure{Commit: c.Hash.String(), Subject: c.Subject, Error: err.Error(), At: time.Now().UTC()}
	if !f.applied.IsZero() {
		if rerr := f.repo.Export(f.applied, f.Live()); rerr != nil {
			f.status.Failed.Error += "; and restoring the applied commit failed: " + rerr.Error()
		}
	}
}

// Record is the end of a pass of the reconcile loop (the host's plan, or
// reconcile --kube's changes): it records what the pass applied, or why it
// failed, and a pending commit as applied, or, when the pass failed, as
// failed.
func (f *Follower) Record(done gitops.Outcome, passErr error) error {
	p := pass{done, passErr}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now().UTC()
	f.status.Passes++
	f.status.LastPass = &gitops.PassStatus{At: now, Summary: summary(p)}
	if p.Err != nil {
		f.status.FailedPasses++
		f.status.LastPass.Error = p.Err.Error()
	}
	if !f.pending.IsZero() {
		c, derr := f.repo.Describe(f.pending)
		if derr != nil {
			c = gitsource.Commit{Hash: f.pending}
		}
		if p.Err != nil {
			f.fail(c, f.named(c, p.Err))
		} else {
			f.applied, f.status.Applied, f.status.AppliedSubject, f.status.AppliedAt = c.Hash, c.Hash.String(), c.Subject, now
			if f.OnApply != nil {
				f.OnApply(c.Hash.String())
			}
		}
		f.pending = plumbing.ZeroHash
	} else if p.Err == nil && !p.Plan.Empty() {
		f.status.DriftRepairs++
		for _, k := range kinds(p.Plan) {
			if f.status.DriftActions == nil {
				f.status.DriftActions = map[string]int{}
			}
			f.status.DriftActions[k]++
		}
	}
	return gitops.WriteStatus(f.dir, f.status)
}

// kinds are the kinds of what done applied, one per action: a host
// plan's action kinds, or what an outcome that lists them says.
func kinds(done gitops.Outcome) []string {
	switch d := done.(type) {
	case reconcile.Plan:
		var out []string
		for _, a := range d.Actions {
			out = append(out, string(a.Kind))
		}
		return out
	case interface{ Kinds() []string }:
		return d.Kinds()
	}
	return nil
}

// pass is a pass as Record is told of it.
type pass struct {
	Plan gitops.Outcome
	Err  error
}

func summary(p pass) string {
	switch {
	case p.Err != nil:
		return "failed"
	case p.Plan.Empty():
		return "converged: nothing to do"
	default:
		return "applied: " + p.Plan.Summary()
	}
}
