package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/testutil"
)

func TestBuildMultiStageScratch(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": `FROM busybox AS tools
RUN mkdir -p /out && cp /bin/busybox /out/busybox && echo made > /out/made.txt

FROM busybox AS unused
RUN echo this stage must not run && exit 1

FROM busybox AS trimmed
RUN mkdir /keep /op && echo gone > /keep/temp.txt && echo stays > /keep/kept.txt && echo a > /op/a && ln /keep/kept.txt /keep/hard
RUN rm /keep/temp.txt && rm -r /etc /op && mkdir /op && echo b > /op/b

FROM scratch
COPY --from=tools /out/ /bin/
COPY --from=trimmed /keep /keep
COPY --from=busybox /etc/passwd /etc/passwd
ENTRYPOINT ["/bin/busybox"]
CMD ["sh", "-c", "cat /bin/made.txt; ls /keep; test -e /etc/passwd && echo passwd; stat -c %h /keep/kept.txt"]
`})
	img, steps, err := e.build(t, Options{Context: dir, Tag: "multi"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if s.Stage == "unused" {
			t.Errorf("unused stage ran: %+v", s)
		}
	}
	if len(img.DiffIDs) != 3 {
		t.Errorf("scratch image has %d layers, want 3 (one per COPY)", len(img.DiffIDs))
	}
	code, out := e.run(t, img)
	if code != 0 || out != "made\nhard\nkept.txt\npasswd\n2\n" {
		t.Errorf("run: %d %q", code, out)
	}

	// Saved and loaded into a fresh store, it still runs.
	var archive bytes.Buffer
	if err := e.store.Save(context.Background(), &archive, []string{"multi"}, ""); err != nil {
		t.Fatal(err)
	}
	fresh, err := image.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := fresh.Load(context.Background(), &archive, nil)
	if err != nil || len(loaded) != 1 {
		t.Fatalf("load: %v %v", loaded, err)
	}
	other := *e
	other.store = fresh
	if code, out := other.run(t, &loaded[0]); code != 0 || out != "made\nhard\nkept.txt\npasswd\n2\n" {
		t.Errorf("loaded image run: %d %q", code, out)
	}

	// The stage with the deletion, built alone: its last layer hides
	// the file and the directory with whiteouts.
	img, _, err = e.build(t, Options{Context: dir, Target: "trimmed"})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := e.run(t, img, "sh", "-c", "ls /keep /op; test -e /etc || echo no-etc; stat -c %h /keep/kept.txt"); code != 0 || out != "/keep:\nhard\nkept.txt\n\n/op:\nb\nno-etc\n2\n" {
		t.Errorf("whiteouts: %d %q", code, out)
	}
	if _, _, err := e.build(t, Options{Context: dir, Target: "nope"}); !errors.Is(err, ErrNoStage) {
		t.Errorf("missing target: %v", err)
	}
}

func TestBuildCache(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nENV A=1\nCOPY one.txt /one.txt\nRUN cat /one.txt > /copy1\nCOPY two.txt /two.txt\nRUN cat /two.txt > /copy2\nCMD [\"cat\", \"/copy1\", \"/copy2\"]\n",
		"one.txt":    "one\n",
		"two.txt":    "two\n",
	})
	first, _, err := e.build(t, Options{Context: dir, Tag: "cached"})
	if err != nil {
		t.Fatal(err)
	}
	second, steps, err := e.build(t, Options{Context: dir, Tag: "cached"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps[1:] { // steps[0] is FROM, resolved, never "cached"
		if !s.Cached {
			t.Errorf("second build: step %d %q not cached", s.Step, s.Instruction)
		}
	}
	if first.ID != second.ID || first.Digest != second.Digest {
		t.Errorf("a build from the cache made another image: %s then %s", first.ID, second.ID)
	}
	// Touching a file without changing it keeps the cache.
	if err := os.Chtimes(filepath.Join(dir, "one.txt"), first.Created.AddDate(0, 0, 1), first.Created.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	// Changing the second copied file re-runs only its COPY and later.
	if err := os.WriteFile(filepath.Join(dir, "two.txt"), []byte("TWO\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	img, steps, err := e.build(t, Options{Context: dir, Tag: "cached"})
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	for _, s := range steps[1:] {
		got = append(got, s.Cached)
	}
	if want := []bool{true, true, true, false, false, false}; !slices.Equal(got, want) {
		t.Errorf("after a change: cached %v, want %v", got, want)
	}
	if code, out := e.run(t, img); code != 0 || out != "one\nTWO\n" {
		t.Errorf("run: %d %q", code, out)
	}
	_, steps, err = e.build(t, Options{Context: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if s.Cached {
			t.Errorf("--no-cache: step %q cached", s.Instruction)
		}
	}
}

func TestBuildContextConfinement(t *testing.T) {
	e := newEnv(t)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("TOP SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := writeContext(t, map[string]string{
		"Dockerfile":     "FROM busybox\nCOPY . /ctx/\n",
		".dockerignore":  "*.log\nbuild/\n!build/keep.txt\n",
		"app.txt":        "app\n",
		"debug.log":      "noise\n",
		"build/obj.o":    "obj\n",
		"build/keep.txt": "keep\n",
		"leak":           "->" + secret,
		"sub/leak2":      "->../../" + filepath.Base(filepath.Dir(secret)) + "/secret",
	})
	img, _, err := e.build(t, Options{Context: dir})
	if err != nil {
		t.Fatal(err)
	}
	code, out := e.run(t, img, "sh", "-c", "cd /ctx && find . | sort; readlink leak; cat leak sub/leak2 2>&1 | grep -c SECRET")
	want := ".\n./.dockerignore\n./Dockerfile\n./app.txt\n./build\n./build/keep.txt\n./leak\n./sub\n./sub/leak2\n" + secret + "\n0\n"
	if out != want {
		t.Errorf("context copy: code %d\n%s\nwant\n%s", code, out, want)
	}
	for _, tc := range []struct{ df, want string }{
		{"FROM busybox\nCOPY ../x /x\n", "outside the build context"},
		{"FROM busybox\nCOPY debug.log /x\n", "excluded by .dockerignore"},
		{"FROM busybox\nCOPY missing.txt /x\n", "source not found"},
	} {
		_, _, err := e.build(t, Options{Context: dir, DockerfileInline: tc.df, Tag: "bad"})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Dockerfile:2:") {
			t.Errorf("%q: error %v, want %q at line 2", tc.df, err, tc.want)
		}
	}
	if _, err := e.store.Get("bad"); !errors.Is(err, image.ErrNotFound) {
		t.Errorf("a failed build tagged an image: %v", err)
	}
}

func TestBuildBadInput(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN true\nCOPY --nope=1 a /b\n"})
	_, _, err := e.build(t, Options{Context: dir, Tag: "bad"})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "Dockerfile")+":3:") {
		t.Errorf("syntax error: %v, want the Dockerfile and line 3", err)
	}
	_, steps, err := e.build(t, Options{Context: dir, DockerfileInline: "FROM busybox\nRUN echo partial > /p\nRUN echo about to fail; exit 3\n", Tag: "bad"})
	if !errors.Is(err, ErrStepFailed) || !strings.Contains(err.Error(), "Dockerfile:3:") || !strings.Contains(err.Error(), "exit code: 3") {
		t.Errorf("failing RUN: %v", err)
	}
	if last := steps[len(steps)-1]; len(last.Output) != 1 || last.Output[0] != "about to fail" {
		t.Errorf("failing RUN output %q", last.Output)
	}
	var streamed []string
	Build(context.Background(), e.store, e.rt, Options{Context: dir, DockerfileInline: "FROM busybox\nRUN echo one; echo two\n", NoCache: true, Progress: func(ev Event) {
		if !ev.Done && ev.Line != "" {
			streamed = append(streamed, ev.Line)
		}
	}})
	if !slices.Equal(streamed, []string{"one", "two"}) {
		t.Errorf("streamed lines %q", streamed)
	}
	if _, err := e.store.Get("bad"); !errors.Is(err, image.ErrNotFound) {
		t.Errorf("a failed build tagged an image: %v", err)
	}
	for _, df := range []string{"FROM busybox\nCOPY --exclude=x a /b\n", "FROM busybox\nRUN --network=host true\n", "FROM busybox\nADD https://example.com/x.git /x\n"} {
		if _, _, err := e.build(t, Options{Context: dir, DockerfileInline: df}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Dockerfile:2:") {
			t.Errorf("%q: %v", df, err)
		}
	}
	if _, _, err := e.build(t, Options{Context: dir, DockerfileInline: "FROM 127.0.0.1:1/nothere:1\n"}); err == nil || !strings.Contains(err.Error(), "Dockerfile:1: FROM 127.0.0.1:1/nothere:1: pulling") {
		t.Errorf("missing base: %v", err)
	}
}

func TestBuildPullsMissingBase(t *testing.T) {
	e := newEnv(t)
	reg := testutil.Registry(t, nil)
	testutil.PushBusybox(t, reg+"/lib/bb:1", []string{"sh"}, nil)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + reg + "/lib/bb:1\nRUN echo pulled > /x\n"})
	img, _, err := e.build(t, Options{Context: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Get(reg + "/lib/bb:1"); err != nil {
		t.Errorf("base not in the store: %v", err)
	}
	if code, out := e.run(t, img, "cat", "/x"); code != 0 || out != "pulled\n" {
		t.Errorf("run: %d %q", code, out)
	}
}
