package build

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// Named contexts (Compose's additional_contexts): a directory COPY
// --from reads, an image FROM starts with; RUN's /dev/shm has the size
// asked for.
func TestBuildNamedContextsAndShmSize(t *testing.T) {
	e := newEnv(t)
	assets := writeContext(t, map[string]string{"a.txt": "hello\n", "sub/b.txt": "b\n"})
	dir := writeContext(t, map[string]string{"Dockerfile": `FROM tools
COPY --from=assets a.txt /a.txt
COPY --from=assets sub /sub
RUN test "$(cat /a.txt)" = hello && test -e /sub/b.txt && df -k /dev/shm | awk 'NR==2 {print $2}' > /shm
CMD ["cat", "/shm"]
`})
	o := Options{Context: dir, Tag: "named", ShmSize: 128 << 20,
		NamedContexts: map[string]string{"assets": assets, "tools": "docker-image://busybox"}}
	img, _, err := e.build(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if code, out := e.run(t, img); code != 0 || strings.TrimSpace(out) != "131072" {
		t.Fatalf("/dev/shm of RUN: %d %q, want 131072 KiB", code, out)
	}
	// A change in the named directory re-runs the COPY that reads it.
	if err := os.WriteFile(assets+"/a.txt", []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, steps, err := e.build(t, o); err == nil {
		t.Fatalf("the RUN's check passed on changed content: %+v", steps)
	} else if !errors.Is(err, ErrStepFailed) {
		t.Fatalf("want the RUN to fail on the new content: %v", err)
	}
	// FROM a directory is not built yet: a clear error.
	df := writeContext(t, map[string]string{"Dockerfile": "FROM assets\n"})
	if _, _, err := e.build(t, Options{Context: df, NamedContexts: map[string]string{"assets": assets}}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("FROM a named directory: %v", err)
	}
}
