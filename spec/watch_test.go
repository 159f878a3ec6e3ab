package spec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A read-only bind named by x-berth-watch or develop.watch is digested at
// load; the digest follows its content and modes, not its times; a
// writable bind or one named by neither is not watched.
func TestWatchedBindDigest(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": `services:
  web:
    image: busybox
    volumes: ["./conf:/etc/app:ro", "./data:/data"]
    x-berth-watch: [./conf, ./data]
  api:
    image: busybox
    volumes: ["./conf:/etc/app:ro", "./other:/other:ro"]
    develop:
      watch:
        - path: ./conf/app.conf
          action: restart
`,
		"conf/app.conf": "a=1\n", "data/x": "", "other/y": "",
	})
	load := func() *Project { return mustLoad(t, LoadOptions{WorkingDir: dir}) }
	p := load()
	for _, s := range []string{"web", "api"} {
		ws := p.Watched[s]
		if len(ws) != 1 || ws[0].Key != "bind ./conf" || ws[0].Source != filepath.Join(dir, "conf") || ws[0].Digest == "" {
			t.Fatalf("%s watches %+v, want ./conf alone", s, ws)
		}
	}
	digest := p.Watched["web"][0].Digest
	if p.Watched["api"][0].Digest != digest {
		t.Error("one directory, two digests")
	}

	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "conf/app.conf"), later, later); err != nil {
		t.Fatal(err)
	}
	if got := load().Watched["web"][0].Digest; got != digest {
		t.Error("a change of times changed the digest")
	}
	for _, change := range []func(string) error{
		func(f string) error { return os.WriteFile(f, []byte("a=2\n"), 0o644) },
		func(f string) error { return os.Chmod(f, 0o600) },
		func(f string) error { return os.WriteFile(filepath.Join(filepath.Dir(f), "new.conf"), nil, 0o644) },
	} {
		if err := change(filepath.Join(dir, "conf/app.conf")); err != nil {
			t.Fatal(err)
		}
		now := load().Watched["web"][0].Digest
		if now == digest {
			t.Error("a change under the bind left its digest as it was")
		}
		digest = now
	}
}

// x-berth-watch must list paths.
func TestWatchExtensionIsChecked(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: busybox\n    x-berth-watch: ./conf\n"})
	if err := loadErr(t, LoadOptions{WorkingDir: dir}); !strings.Contains(err.Error(), "x-berth-watch") {
		t.Errorf("error = %v, want one naming x-berth-watch", err)
	}
}

// A project from the cache digests its watched binds again: their
// content is not an input of the load.
func TestCachedProjectDigestsWatchedBindsAgain(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml":  "services:\n  web:\n    image: busybox\n    volumes: ['./conf:/etc/app:ro']\n    x-berth-watch: [./conf]\n",
		"conf/app.conf": "a=1\n",
	})
	cache := t.TempDir()
	load := func() string {
		p, err := LoadCached(context.Background(), LoadOptions{WorkingDir: dir, Environ: []string{}}, cache, "test")
		if err != nil {
			t.Fatal(err)
		}
		return p.Watched["web"][0].Digest
	}
	before := load()
	if err := os.WriteFile(filepath.Join(dir, "conf/app.conf"), []byte("a=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if load() == before {
		t.Error("the cached project kept the old digest")
	}
}
