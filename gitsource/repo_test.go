package gitsource

import (
	"context"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/berth-dev/berth/gitops"
)

// origin is a test repository worked on with the git command line, as a
// user would.
type origin struct {
	t   *testing.T
	dir string
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	o := &origin{t: t, dir: t.TempDir()}
	o.git("init", "-q", "-b", "main")
	return o
}

func (o *origin) git(args ...string) string {
	o.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = o.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		o.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (path → content; "" deletes) and commits them.
func (o *origin) commit(msg string, files map[string]string) string {
	o.t.Helper()
	for name, content := range files {
		p := filepath.Join(o.dir, name)
		if content == "" {
			o.git("rm", "-q", name)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			o.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			o.t.Fatal(err)
		}
	}
	o.git("add", "-A")
	o.git("commit", "-q", "-m", msg)
	return o.git("rev-parse", "HEAD")
}

func fetch(t *testing.T, src gitops.Source) (*Repo, string) {
	t.Helper()
	r, err := Open(filepath.Join(t.TempDir(), "copy"), src)
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r, h.String()
}

func TestFetchFollowsBranchTagAndCommit(t *testing.T) {
	o := newOrigin(t)
	first := o.commit("first", map[string]string{"shop/compose.yaml": "services: {}\n"})
	o.git("tag", "v1")
	o.git("tag", "-a", "v1-annotated", "-m", "release")
	second := o.commit("second", map[string]string{"shop/compose.yaml": "name: two\n"})
	o.git("branch", "old", first)

	for ref, want := range map[string]string{"": second, "main": second, "refs/heads/main": second,
		"old": first, "v1": first, "v1-annotated": first, first: first, "refs/tags/v1": first} {
		if _, got := fetch(t, gitops.Source{URL: o.dir, Ref: ref}); got != want {
			t.Errorf("ref %q resolved to %s, want %s", ref, got, want)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "c"), gitops.Source{URL: o.dir, Ref: "nope"}); err != nil {
		t.Fatal(err)
	}
	r, _ := Open(filepath.Join(t.TempDir(), "c"), gitops.Source{URL: o.dir, Ref: "nope"})
	if _, err := r.Fetch(context.Background()); !errors.Is(err, ErrNoRef) {
		t.Errorf("unknown ref: %v, want ErrNoRef", err)
	}
}

func TestFetchSeesNewCommitsAndForcePushes(t *testing.T) {
	o := newOrigin(t)
	o.commit("first", map[string]string{"a": "1"})
	dir := filepath.Join(t.TempDir(), "copy")
	r, err := Open(dir, gitops.Source{URL: "file://" + o.dir, Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	second := o.commit("second", map[string]string{"a": "2"})
	if h, err := r.Fetch(ctx); err != nil || h.String() != second {
		t.Fatalf("after a new commit: %v %v, want %s", h, err, second)
	}
	// A force-push that rewrites main is followed too.
	o.git("reset", "-q", "--hard", "HEAD~1")
	rewritten := o.commit("rewritten", map[string]string{"a": "3"})
	// And a reopened copy keeps working.
	r, err = Open(dir, gitops.Source{URL: "file://" + o.dir, Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := r.Fetch(ctx); err != nil || h.String() != rewritten {
		t.Fatalf("after a force-push: %v %v, want %s", h, err, rewritten)
	}
	c, err := r.Describe(r.mustResolve(t))
	if err != nil || c.Subject != "rewritten" || len(c.Short()) != 12 {
		t.Errorf("Describe = %+v, %v", c, err)
	}
}

func (r *Repo) mustResolve(t *testing.T) plumbing.Hash {
	t.Helper()
	got, err := r.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestExportWritesTheStackDirectory(t *testing.T) {
	o := newOrigin(t)
	o.commit("first", map[string]string{"shop/compose.yaml": "services: {}\n", "shop/conf/app.conf": "x=1\n",
		"other/compose.yaml": "nope\n"})
	if err := os.Symlink("conf/app.conf", filepath.Join(o.dir, "shop", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(o.dir, "shop", "run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	o.commit("links", nil)
	r, _ := fetch(t, gitops.Source{URL: o.dir, Path: "shop/"})
	dest := filepath.Join(t.TempDir(), "stack")
	if err := r.Export(r.mustResolve(t), dest); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "conf", "app.conf")); err != nil || string(b) != "x=1\n" {
		t.Errorf("conf/app.conf = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dest, "compose.yaml")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dest, "other")); err == nil {
		t.Error("a directory outside the stack's path was exported")
	}
	if l, err := os.Readlink(filepath.Join(dest, "link")); err != nil || l != "conf/app.conf" {
		t.Errorf("link = %q, %v", l, err)
	}
	if fi, err := os.Stat(filepath.Join(dest, "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode: %v, %v", fi, err)
	}
	// A later commit that deletes a file replaces the export as a whole.
	o.commit("drop conf", map[string]string{"shop/conf/app.conf": ""})
	h2, err := r.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Export(h2, dest); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dest, "conf", "app.conf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a deleted file survived the next export: %v", err)
	}
	for _, leftover := range []string{dest + ".next", dest + ".old"} {
		if _, err := os.Stat(leftover); err == nil {
			t.Errorf("%s left behind", leftover)
		}
	}
	r.src.Path = "missing"
	if err := r.Export(h2, dest); !errors.Is(err, ErrNoPath) {
		t.Errorf("missing path: %v", err)
	}
}

// TestHTTPBasicAuth fetches through git's own smart HTTP server, which
// this test guards with basic auth, from a token in a file.
func TestHTTPBasicAuth(t *testing.T) {
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		t.Skip("git-http-backend is not installed")
	}
	o := newOrigin(t)
	want := o.commit("first", map[string]string{"compose.yaml": "services: {}\n"})
	const token = "s3cr3t-t0ken"
	cgiHandler := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(o.dir), "GIT_HTTP_EXPORT_ALL=1"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, pw, ok := req.BasicAuth(); !ok || pw != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		cgiHandler.ServeHTTP(w, req)
	}))
	defer srv.Close()
	url := srv.URL + "/" + filepath.Base(o.dir)

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, got := fetch(t, gitops.Source{URL: url, Auth: gitops.Auth{TokenFile: tokenFile}}); got != want {
		t.Errorf("fetched %s, want %s", got, want)
	}
	t.Setenv("TEST_BERTH_TOKEN", token)
	if _, got := fetch(t, gitops.Source{URL: url, Ref: "main", Auth: gitops.Auth{TokenEnv: "TEST_BERTH_TOKEN"}}); got != want {
		t.Errorf("fetched %s, want %s", got, want)
	}
	// Without the token: refused, and the error names the URL.
	r, err := Open(filepath.Join(t.TempDir(), "c"), gitops.Source{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), srv.URL) {
		t.Errorf("fetch without credentials: %v", err)
	}
	// A token written into the URL never shows in an error.
	withToken := strings.Replace(url, "http://", "http://user:"+"wrong-"+token+"@", 1)
	r, err = Open(filepath.Join(t.TempDir(), "c"), gitops.Source{URL: withToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Fetch(context.Background()); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("fetch with a wrong token in the URL: %v", err)
	}
}

func TestAuthErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url  string
		auth gitops.Auth
		want string
	}{
		{"https://h/r.git", gitops.Auth{TokenFile: empty}, "credential not found"},
		{"https://h/r.git", gitops.Auth{TokenEnv: "TEST_BERTH_UNSET_VAR"}, "environment variable TEST_BERTH_UNSET_VAR"},
		{"https://h/r.git", gitops.Auth{PasswordEnv: "X"}, "needs a username"},
		{"https://h/r.git", gitops.Auth{SSHKeyFile: "k"}, "does not apply"},
		{"git@h:r.git", gitops.Auth{TokenFile: empty}, "does not apply"},
		{"ssh://git@h/r.git", gitops.Auth{SSHKeyFile: "k", KnownHosts: "/nonexistent/known_hosts"}, "always checked"},
	} {
		if _, err := authMethod(tc.auth, tc.url); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: %v, want %q", tc.url, tc.auth, err, tc.want)
		}
	}
}
