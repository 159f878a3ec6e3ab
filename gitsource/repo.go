package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/berth-dev/berth/gitops"
)

// Repo is the local bare copy of a Source's repository.
type Repo struct {
	src  gitops.Source
	auth transport.AuthMethod
	git  *git.Repository
}

// ErrNoRef reports a ref the repository does not have.
var ErrNoRef = errors.New("no such branch, tag or commit")

var fullCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Open opens the bare copy in dir, creating it (empty, with the remote
// "origin") when dir does not hold one yet. Nothing is fetched.
func Open(dir string, src gitops.Source) (*Repo, error) {
	auth, err := authMethod(src.Auth, src.URL)
	if err != nil {
		return nil, err
	}
	r, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		r, err = git.PlainInit(dir, true)
		if err == nil {
			_, err = r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{src.URL}})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("repository copy %s: %w", dir, err)
	}
	// The URL may change between runs (a moved repository): follow it.
	if cfg, err := r.Config(); err == nil {
		if rc := cfg.Remotes["origin"]; rc != nil && (len(rc.URLs) != 1 || rc.URLs[0] != src.URL) {
			rc.URLs = []string{src.URL}
			if err := r.SetConfig(cfg); err != nil {
				return nil, err
			}
		}
	}
	return &Repo{src: src, auth: auth, git: r}, nil
}

// refSpecs fetch every branch and tag: the ref may name either, and a
// pinned commit is reachable from one of them.
var refSpecs = []config.RefSpec{
	"+refs/heads/*:refs/remotes/origin/*",
	"+refs/tags/*:refs/tags/*",
	"+HEAD:refs/remotes/origin/HEAD",
}

// Fetch brings the copy up to date with the remote and returns the commit
// the ref names now.
func (r *Repo) Fetch(ctx context.Context) (plumbing.Hash, error) {
	err := r.git.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin", RefSpecs: refSpecs, Auth: r.auth, Force: true, Tags: git.NoTags, Prune: true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s: %s", gitops.Redact(r.src.URL), scrub(err.Error(), r.src.URL))
	}
	return r.Resolve()
}

// Resolve returns the commit the ref names in the local copy.
func (r *Repo) Resolve() (plumbing.Hash, error) {
	ref := r.src.Ref
	var candidates []plumbing.ReferenceName
	switch {
	case fullCommit.MatchString(ref):
		h := plumbing.NewHash(ref)
		if _, err := r.git.CommitObject(h); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("commit %s: %w", ref, ErrNoRef)
		}
		return h, nil
	case ref == "":
		candidates = []plumbing.ReferenceName{"refs/remotes/origin/HEAD"}
	case strings.HasPrefix(ref, "refs/heads/"):
		candidates = []plumbing.ReferenceName{plumbing.ReferenceName("refs/remotes/origin/" + strings.TrimPrefix(ref, "refs/heads/"))}
	case strings.HasPrefix(ref, "refs/"):
		candidates = []plumbing.ReferenceName{plumbing.ReferenceName(ref)}
	default:
		candidates = []plumbing.ReferenceName{plumbing.NewRemoteReferenceName("origin", ref), plumbing.NewTagReferenceName(ref)}
	}
	for _, name := range candidates {
		ref, err := r.git.Reference(name, true)
		if err != nil {
			continue
		}
		return r.peel(ref.Hash())
	}
	return plumbing.ZeroHash, fmt.Errorf("%q in %s: %w", r.src.Ref, gitops.Redact(r.src.URL), ErrNoRef)
}

// peel follows an annotated tag to its commit.
func (r *Repo) peel(h plumbing.Hash) (plumbing.Hash, error) {
	for range 10 {
		tag, err := r.git.TagObject(h)
		if err != nil {
			return h, nil
		}
		h = tag.Target
	}
	return plumbing.ZeroHash, fmt.Errorf("tag chain too long at %s", h)
}

// scrub removes a URL's credentials from an error text of the transport,
// which may quote the URL.
func scrub(msg, rawURL string) string {
	if red := gitops.Redact(rawURL); red != rawURL {
		msg = strings.ReplaceAll(msg, rawURL, red)
	}
	return msg
}
