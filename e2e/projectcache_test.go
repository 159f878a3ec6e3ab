package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoOpUpUsesProjectCache: a second `up` of unchanged files loads the
// project from the cache under the state root (its entry, mode 0600, is
// not written again), and a change of the file, of an env file or of an
// environment variable the file reads is seen by the next `up`.
func TestNoOpUpUsesProjectCache(t *testing.T) {
	u := busyboxProject(t, `
services:
  app:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    env_file: app.env
    environment: {GREETING: "${GREETING:-hello}"}
`, "-t", "0")
	if err := os.WriteFile(filepath.Join(u.dir, "app.env"), []byte("FROM_FILE=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u.run("up", "-d")
	cache := filepath.Join(u.root, "cache", "projects")
	entries, err := os.ReadDir(cache)
	if err != nil || len(entries) != 1 {
		t.Fatalf("cache %s holds %v (%v), want one entry", cache, entries, err)
	}
	entry := filepath.Join(cache, entries[0].Name())
	before, err := os.Stat(entry)
	if err != nil {
		t.Fatal(err)
	}
	if before.Mode().Perm() != 0o600 {
		t.Errorf("entry mode %v, want 0600 (it holds the environment)", before.Mode().Perm())
	}
	if out := u.run("up", "-d"); !strings.Contains(out, "Nothing to do") {
		t.Errorf("second up changed something:\n%s", out)
	}
	if after, err := os.Stat(entry); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("a no-op up wrote the cache entry again (%v): it was not a hit", err)
	}

	env := func() string { return u.run("exec", "-T", "app", "env") }
	if err := os.WriteFile(filepath.Join(u.dir, "app.env"), []byte("FROM_FILE=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u.run("up", "-d", "-t", "0")
	if got := env(); !strings.Contains(got, "FROM_FILE=2") {
		t.Errorf("after the env file changed, the container's environment is\n%s", got)
	}
	u.setenv("GREETING=bonjour")
	u.run("up", "-d", "-t", "0")
	if got := env(); !strings.Contains(got, "GREETING=bonjour") {
		t.Errorf("after GREETING was set, the container's environment is\n%s", got)
	}
}
