package spec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// cacheProject is a project reading every kind of file a load reads: two
// compose files, .env, a service env_file and label_file, a config's and
// a secret's file.
func cacheProject(t *testing.T) string {
	t.Helper()
	return writeProject(t, map[string]string{
		"compose.yaml": `services:
  app:
    image: busybox:${TAG}
    env_file: app.env
    label_file: app.labels
    environment: [FROM_HOST]
    configs: [conf]
    secrets: [pass, token]
    profiles: [on]
  off:
    image: busybox
    profiles: [later]
configs:
  conf: {file: ./conf.txt}
secrets:
  pass: {file: ./pass.txt}
  token: {environment: TOKEN}
`,
		"compose.override.yaml": "services:\n  app:\n    labels: {over: \"1\"}\n",
		".env":                  "TAG=1.36\nTOKEN=s3cret\n",
		"other.env":             "TAG=1.37\nTOKEN=other\n",
		"app.env":               "A=1\n",
		"app.labels":            "l=1\n",
		"conf.txt":              "conf\n",
		"pass.txt":              "pass\n",
	})
}

// cachedLoad is LoadCached of o with cache dir, and whether it was a hit.
func cachedLoad(t *testing.T, o LoadOptions, cache string) (*Project, bool) {
	t.Helper()
	p, err := LoadCached(context.Background(), o, cache, "test-build")
	if err != nil {
		t.Fatalf("LoadCached(%+v): %v", o, err)
	}
	return p, p.loaded == nil
}

// sameAsLoad fails unless cached is what a fresh Load of o gives.
func sameAsLoad(t *testing.T, cached *Project, o LoadOptions) {
	t.Helper()
	fresh := mustLoad(t, o)
	a, b := *cached, *fresh
	a.loaded, a.env, a.profiles, a.reload = nil, nil, nil, nil
	b.loaded = nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("cached project =\n %+v\nfresh load =\n %+v", a, b)
	}
	if got, want := cached.Environment(), fresh.Environment(); !slices.Equal(got, want) {
		t.Errorf("Environment() = %q, want %q", got, want)
	}
	if got, want := cached.AllProfiles(), fresh.AllProfiles(); !slices.Equal(got, want) {
		t.Errorf("AllProfiles() = %q, want %q", got, want)
	}
	for _, name := range []string{"TOKEN", "FROM_HOST", "UNSET"} {
		v1, ok1 := cached.LookupEnv(name)
		v2, ok2 := fresh.LookupEnv(name)
		if v1 != v2 || ok1 != ok2 {
			t.Errorf("LookupEnv(%s) = %q, %v; want %q, %v", name, v1, ok1, v2, ok2)
		}
	}
}

func TestLoadCachedHitEqualsLoad(t *testing.T) {
	dir, cache := cacheProject(t), filepath.Join(t.TempDir(), "cache", "projects")
	o := LoadOptions{WorkingDir: dir, Profiles: []string{"on"}, Environ: []string{"FROM_HOST=h"}}
	if _, hit := cachedLoad(t, o, cache); hit {
		t.Fatal("first load was a hit on an empty cache")
	}
	entries, err := os.ReadDir(cache)
	if err != nil || len(entries) != 1 {
		t.Fatalf("cache holds %v (%v), want one entry", entries, err)
	}
	fi, err := os.Stat(filepath.Join(cache, entries[0].Name()))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("entry mode %v (%v), want 0600: it holds environment values", fi.Mode(), err)
	}
	p, hit := cachedLoad(t, o, cache)
	if !hit {
		t.Fatal("second load of unchanged files was a miss")
	}
	sameAsLoad(t, p, o)
	// What needs compose-go's model loads it again, and gets the same.
	got, err := p.Render("yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := mustLoad(t, o).Render("yaml")
	if string(got) != string(want) {
		t.Errorf("Render of a cached project =\n%s\nwant\n%s", got, want)
	}
}

func TestLoadCachedMissesOnEveryInput(t *testing.T) {
	base := LoadOptions{Profiles: []string{"on"}, Environ: []string{"FROM_HOST=h"}}
	write := func(name, content string) func(*testing.T, string, *LoadOptions) {
		return func(t *testing.T, dir string, _ *LoadOptions) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*testing.T, string, *LoadOptions)
	}{
		{"compose file", write("compose.yaml", "services:\n  app:\n    image: busybox:${TAG}\n    profiles: [on]\n")},
		{"override file", write("compose.override.yaml", "services:\n  app:\n    labels: {over: \"2\"}\n")},
		{".env", write(".env", "TAG=1.38\nTOKEN=s3cret\n")},
		{"env_file", write("app.env", "A=2\n")},
		{"label_file", write("app.labels", "l=2\n")},
		{"config file", write("conf.txt", "conf 2\n")},
		{"secret file", write("pass.txt", "pass 2\n")},
		{"env file removed", func(t *testing.T, dir string, _ *LoadOptions) {
			if err := os.Remove(filepath.Join(dir, "app.labels")); err != nil {
				t.Fatal(err)
			}
			write("app.labels", "l=1\n")(t, dir, nil) // same content again: still a hit below
		}},
		{"environment variable", func(_ *testing.T, _ string, o *LoadOptions) { o.Environ = []string{"FROM_HOST=h2"} }},
		{"environment variable added", func(_ *testing.T, _ string, o *LoadOptions) { o.Environ = append(o.Environ, "TAG=9") }},
		{"-f", func(_ *testing.T, _ string, o *LoadOptions) { o.Files = []string{"compose.yaml"} }},
		{"-p", func(_ *testing.T, _ string, o *LoadOptions) { o.ProjectName = "other" }},
		{"--profile", func(_ *testing.T, _ string, o *LoadOptions) { o.Profiles = []string{"on", "later"} }},
		{"--env-file", func(_ *testing.T, _ string, o *LoadOptions) { o.EnvFiles = []string{"other.env"} }},
		{"--project-directory", func(t *testing.T, dir string, o *LoadOptions) {
			o.ProjectDir = dir
			o.WorkingDir = t.TempDir()
			o.Files = []string{filepath.Join(dir, "compose.yaml")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, cache := cacheProject(t), t.TempDir()
			o := base
			o.WorkingDir = dir
			cachedLoad(t, o, cache)
			if _, hit := cachedLoad(t, o, cache); !hit {
				t.Fatal("unchanged: a miss")
			}
			tc.change(t, dir, &o)
			p, hit := cachedLoad(t, o, cache)
			if tc.name == "env file removed" {
				if !hit {
					t.Error("a file rewritten with the same content was a miss")
				}
				return
			}
			if hit {
				t.Fatal("changed input: a hit")
			}
			sameAsLoad(t, p, o)
			if _, hit := cachedLoad(t, o, cache); !hit {
				t.Error("the changed load was not cached")
			}
		})
	}
}

func TestLoadCachedCorruptEntryIsAMiss(t *testing.T) {
	dir, cache := cacheProject(t), t.TempDir()
	o := LoadOptions{WorkingDir: dir, Environ: []string{}}
	cachedLoad(t, o, cache)
	entries, _ := os.ReadDir(cache)
	for _, content := range []string{"", "{not json", `{"Format":"berth-project-cache/1"}`, "null"} {
		for _, e := range entries {
			if err := os.WriteFile(filepath.Join(cache, e.Name()), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		p, hit := cachedLoad(t, o, cache)
		if hit {
			t.Errorf("entry %q: a hit", content)
		}
		sameAsLoad(t, p, o)
	}
}

func TestLoadCachedSkipsIncludeAndWarnings(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"include":       {"compose.yaml": "include: [other.yaml]\nservices:\n  a: {image: busybox}\n", "other.yaml": "services:\n  b: {image: busybox}\n"},
		"extends":       {"compose.yaml": "services:\n  a: {image: busybox}\n  b:\n    extends: {file: base.yaml, service: base}\n", "base.yaml": "services:\n  base: {image: busybox}\n"},
		"extends block": {"compose.yaml": "services:\n  a: {image: busybox}\n  b:\n    extends:\n      file: base.yaml\n      service: base\n", "base.yaml": "services:\n  base: {image: busybox}\n"},
		"warning":       {"compose.yaml": "version: \"3\"\nservices:\n  a: {image: busybox}\n"},
	} {
		t.Run(name, func(t *testing.T) {
			dir, cache := writeProject(t, files), t.TempDir()
			o := LoadOptions{WorkingDir: dir, Environ: []string{}}
			cachedLoad(t, o, cache)
			if _, hit := cachedLoad(t, o, cache); hit {
				t.Error("cached although the load read files berth cannot list or warned")
			}
		})
	}
}

func TestLoadCachedVolatileVariables(t *testing.T) {
	dir, cache := cacheProject(t), t.TempDir()
	o := LoadOptions{WorkingDir: dir, Environ: []string{"SUDO_COMMAND=/usr/bin/berth up -d", "_=/usr/bin/berth"}}
	cachedLoad(t, o, cache)
	o.Environ = []string{"SUDO_COMMAND=/usr/bin/berth ps", "_=/usr/bin/sudo"}
	if _, hit := cachedLoad(t, o, cache); !hit {
		t.Error("a change of SUDO_COMMAND no file names was a miss")
	}
	// Another SSH login, terminal and shell: the same load.
	o.Environ = append(o.Environ, "SSH_CONNECTION=10.0.0.2 50022 10.0.0.1 22", "SSH_CLIENT=10.0.0.2 50022 22", "SSH_TTY=/dev/pts/3",
		"SSH_AUTH_SOCK=/tmp/ssh-x/agent.1", "XDG_SESSION_ID=7", "PWD="+dir)
	if _, hit := cachedLoad(t, o, cache); !hit {
		t.Error("a new SSH session was a miss")
	}
	// Named by a file, it is an input like any other variable.
	if err := os.WriteFile(filepath.Join(dir, "app.env"), []byte("A=1\nCMD=${SUDO_COMMAND}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cachedLoad(t, o, cache)
	for _, environ := range [][]string{{"SUDO_COMMAND=/usr/bin/berth up"}, {}} {
		o.Environ = environ
		p, hit := cachedLoad(t, o, cache)
		if hit {
			t.Errorf("environment %q: a hit although app.env names SUDO_COMMAND", environ)
		}
		sameAsLoad(t, p, o)
	}
}

func TestLoadCachedOneEntryPerPlace(t *testing.T) {
	dir, cache := cacheProject(t), t.TempDir()
	o := LoadOptions{WorkingDir: dir, Environ: []string{}}
	for _, salt := range []string{"build-1", "build-2"} {
		if _, err := LoadCached(context.Background(), o, cache, salt); err != nil {
			t.Fatal(err)
		}
		p, err := LoadCached(context.Background(), o, cache, salt)
		if err != nil || p.loaded != nil {
			t.Fatalf("salt %s: second load not a hit (%v)", salt, err)
		}
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 1 {
		t.Errorf("cache holds %d entries after two builds loaded one place, want 1 (the newer build's)", len(entries))
	}
	// An entry of another build is a miss.
	if p, _ := LoadCached(context.Background(), o, cache, "build-1"); p.loaded == nil {
		t.Error("an entry of another build was a hit")
	}
	// Entries not written for cacheMaxAge go at the next write.
	old := filepath.Join(cache, "stale")
	if err := os.WriteFile(old, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-cacheMaxAge - time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCached(context.Background(), o, cache, "build-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("a stale entry survived a write: %v", err)
	}
}

// sleepers is a stack of n services like bench/lib.sh's bench_sleepers.
func sleepers(t testing.TB, n int) string {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  s%d:\n    image: bench/busybox:1\n    command: [\"sleep\", \"100000\"]\n    environment: {V: \"1\"}\n", i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// BenchmarkLoad50 and BenchmarkLoadCached50 are a full load of 50
// services against a cache hit of the same (issue 15's no-op `up`).
func BenchmarkLoad50(b *testing.B) {
	o := LoadOptions{WorkingDir: sleepers(b, 50), Environ: os.Environ()}
	for b.Loop() {
		if _, err := Load(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadCached50(b *testing.B) {
	o, cache := LoadOptions{WorkingDir: sleepers(b, 50), Environ: os.Environ()}, b.TempDir()
	for b.Loop() {
		if _, err := LoadCached(context.Background(), o, cache, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoadCachedStack is the hit test on the stack of TestLoadStack,
// which uses most of what berth's model holds.
func TestLoadCachedStack(t *testing.T) {
	o := LoadOptions{WorkingDir: stackDir(t), Environ: []string{"PASSTHROUGH=from-os"}}
	cache := t.TempDir()
	cachedLoad(t, o, cache)
	p, hit := cachedLoad(t, o, cache)
	if !hit {
		t.Fatal("second load of the stack was a miss")
	}
	sameAsLoad(t, p, o)
}

func TestContainsWord(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"SHLVL", true}, {"x: ${SHLVL}", true}, {"$SHLVL\n", true}, {"XSHLVL", false}, {"SHLVL_2", false},
		{"SHLVLX SHLVL", true}, {"_SHLVL 9SHLVL", false}, {"", false}, {"SHLV", false},
	} {
		if got := containsWord([]byte(c.text), "SHLVL"); got != c.want {
			t.Errorf("containsWord(%q, SHLVL) = %v, want %v", c.text, got, c.want)
		}
	}
}
