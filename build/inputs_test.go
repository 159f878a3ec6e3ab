package build

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReadInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Dockerfile", "FROM busybox\nCOPY . /app\n")
	write("app/main.sh", "echo hi\n")
	write("logs/x.log", "noise\n")
	write(".dockerignore", "logs\n")
	read := func() Inputs {
		t.Helper()
		in, err := ReadInputs(Options{Context: dir})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	base := read()
	write("logs/x.log", "more noise\n") // ignored
	now := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "app/main.sh"), now, now); err != nil { // touched, same content
		t.Fatal(err)
	}
	if got := read(); got != base {
		t.Errorf("an ignored or touched file changed the inputs: %+v -> %+v", base, got)
	}
	write("app/main.sh", "echo bye\n")
	if got := read(); got.Context == base.Context || got.Dockerfile != base.Dockerfile {
		t.Errorf("a changed file: %+v -> %+v, want only the context changed", base, got)
	}
	write("Dockerfile", "FROM busybox\nCOPY . /srv\n")
	changed := read()
	if got := read(); got.Dockerfile == base.Dockerfile {
		t.Error("a changed Dockerfile left its digest")
	}
	write("Dockerfile", "FROM busybox\nCOPY . /app\n# a comment\n")
	if got := read(); got.Context != changed.Context {
		t.Error("a change of the Dockerfile changed the context's digest")
	}
	in, err := ReadInputs(Options{Context: dir, DockerfileInline: "FROM scratch\n"})
	if err != nil || in.Dockerfile == read().Dockerfile {
		t.Errorf("inline Dockerfile: %+v, %v", in, err)
	}
	if _, err := ReadInputs(Options{Context: dir, Dockerfile: "nope"}); err == nil {
		t.Error("no error for a missing Dockerfile")
	}
}
