package gitfollow

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/gitops"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func commit(t *testing.T, dir, msg, compose string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "shop"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shop", "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", msg)
	return git(t, dir, "rev-parse", "HEAD")
}

func load(ctx context.Context, dir string) (*spec.Project, error) {
	return spec.Load(ctx, spec.LoadOptions{WorkingDir: filepath.Dir(dir), ProjectDir: dir, NoParents: true, Environ: []string{}})
}

const good1 = "services:\n  web:\n    image: busybox\n    command: [sleep, \"1\"]\n"
const good2 = "services:\n  web:\n    image: busybox\n    command: [sleep, \"2\"]\n"
const broken = "services:\n  web:\n    image: busybox\n    privileged: maybe\n"

// command is what the live copy of the stack runs.
func command(t *testing.T, f *Follower) string {
	t.Helper()
	p, err := load(context.Background(), f.Live())
	if err != nil {
		t.Fatal(err)
	}
	svc, ok := p.Service("web")
	if !ok {
		t.Fatal("no service web")
	}
	return strings.Join(svc.Command, " ")
}

func TestFollowerAppliesGoodCommitsAndSkipsBrokenOnes(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	origin := t.TempDir()
	git(t, origin, "init", "-q", "-b", "main")
	first := commit(t, origin, "first", good1)

	state := t.TempDir()
	open := func() *Follower {
		f, err := Open(state, "shop", gitops.Source{URL: origin, Ref: "main", Path: "shop"}, load)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := open()
	ctx := context.Background()
	pass := func(applyErr error) (*spec.Project, error) {
		t.Helper()
		p, err := f.Load(ctx)
		if err == nil {
			err = applyErr
		}
		if rerr := f.Record(reconcile.Plan{}, err); rerr != nil {
			t.Fatal(rerr)
		}
		return p, err
	}

	if p, err := pass(nil); err != nil || p.Name != "shop" {
		t.Fatalf("first pass: %v, %v", p, err)
	}
	if s, _ := gitops.ReadStatus(state); s.Applied != first || s.Failed != nil {
		t.Fatalf("status after the first commit: %+v", s)
	}

	// A commit that does not load is not applied; the error names the
	// commit, the file as the repository names it, and the line.
	bad := commit(t, origin, "break it", broken)
	if _, err := pass(nil); err != nil {
		t.Fatalf("a pass on a broken commit must converge the applied one: %v", err)
	}
	s, _ := gitops.ReadStatus(state)
	if s.Applied != first || s.Failed == nil || s.Failed.Commit != bad {
		t.Fatalf("status after a broken commit: %+v", s)
	}
	for _, want := range []string{bad[:12], "break it", "shop/compose.yaml:4", "privileged"} {
		if !strings.Contains(s.Failed.Error, want) {
			t.Errorf("failure %q does not say %q", s.Failed.Error, want)
		}
	}
	if got := command(t, f); got != "sleep 1" {
		t.Errorf("live stack after a broken commit runs %q", got)
	}

	// A commit whose apply fails is not applied either.
	second := commit(t, origin, "two", good2)
	if _, err := pass(errors.New("port is already allocated")); err == nil {
		t.Fatal("the apply error was lost")
	}
	if s, _ := gitops.ReadStatus(state); s.Applied != first || s.Failed == nil || s.Failed.Commit != second {
		t.Fatalf("status after a failed apply: %+v", s)
	}
	if got := command(t, f); got != "sleep 1" {
		t.Errorf("live stack after a failed apply runs %q", got)
	}
	// …and not tried again until the branch moves; a restarted follower
	// picks up where it was.
	f = open()
	if _, err := pass(nil); err != nil {
		t.Fatal(err)
	}
	if s, _ := gitops.ReadStatus(state); s.Applied != first {
		t.Fatalf("the failed commit was retried: %+v", s)
	}
	third := commit(t, origin, "three", good2+"    working_dir: /tmp\n")
	if _, err := pass(nil); err != nil {
		t.Fatal(err)
	}
	s, _ = gitops.ReadStatus(state)
	if s.Applied != third || s.AppliedSubject != "three" || s.Passes != 5 || s.FailedPasses != 1 {
		t.Fatalf("status after a good commit: %+v", s)
	}
	if got := command(t, f); got != "sleep 2" {
		t.Errorf("live stack runs %q", got)
	}

	// A pass that changes the host with no new commit repaired drift:
	// counted, with its actions by kind.
	if _, err := f.Load(ctx); err != nil {
		t.Fatal(err)
	}
	repair := reconcile.Plan{Actions: []reconcile.Action{{Kind: reconcile.CreateNetwork}, {Kind: reconcile.Remove}, {Kind: reconcile.Create}, {Kind: reconcile.Start}}}
	if err := f.Record(repair, nil); err != nil {
		t.Fatal(err)
	}
	s, _ = gitops.ReadStatus(state)
	if s.DriftRepairs != 1 || s.DriftActions["create-network"] != 1 || s.DriftActions["create"] != 1 || s.Applied != third {
		t.Fatalf("status after a drift repair: %+v", s)
	}
}
