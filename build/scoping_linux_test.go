package build

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/image"
)

// ARGs are scoped as BuildKit scopes them: a global ARG is seen by FROM
// only, until a stage declares it again; a stage FROM another stage
// keeps its ARGs.
func TestBuildArgScoping(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": `ARG V=global
ARG TAG=busybox
FROM $TAG AS one
ARG ONLY_ONE=1
RUN echo "[$V]" > /a
ARG V
RUN echo "[$V][$ONLY_ONE]" >> /a

FROM one
RUN echo "[$V][$ONLY_ONE]" >> /a
CMD ["cat", "/a"]
`})
	img, _, err := e.build(t, Options{Context: dir})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := e.run(t, img); code != 0 || out != "[]\n[global][1]\n[global][1]\n" {
		t.Errorf("run: %d %q", code, out)
	}
}

// Each bad Dockerfile fails naming its line, tags nothing and leaves no
// container or mount (newEnv checks leaks at the end).
func TestBuildBadDockerfiles(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"a.txt": "a\n"})
	for _, tc := range []struct{ df, want string }{
		{"FROM busybox\nFOO bar\n", "Dockerfile:2: dockerfile parse error on line 2: unknown instruction: FOO"},
		{"FROM busybox\nRUN --bogus=1 true\n", "Dockerfile:2: dockerfile parse error on line 2: unknown flag: --bogus"},
		{"FROM busybox\nRUN true\nCOPY a.txt nothere.txt /x/\n", "Dockerfile:3: COPY a.txt nothere.txt /x/: nothere.txt: source not found"},
		{"ARG V\nFROM ${NOPE}\n", "Dockerfile:2: FROM ${NOPE}: base name (${NOPE}) should not be blank"},
	} {
		_, _, err := e.build(t, Options{Context: dir, DockerfileInline: tc.df, Tag: "bad"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.df, err, tc.want)
		}
	}
	_, _, err := e.build(t, Options{Context: dir, DockerfileInline: "FROM busybox AS a\nFROM busybox\nRUN true\n", Target: "b", Tag: "bad"})
	if !errors.Is(err, ErrNoStage) || !strings.Contains(err.Error(), `target stage "b"`) {
		t.Errorf("missing target stage: %v", err)
	}
	if _, err := e.store.Get("bad"); !errors.Is(err, image.ErrNotFound) {
		t.Errorf("a failed build tagged an image: %v", err)
	}
}

// <Dockerfile>.dockerignore beside the Dockerfile wins over the
// context's .dockerignore; `!` re-includes.
func TestBuildDockerfileIgnoreFile(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{
		"app.Dockerfile":              "FROM busybox\nCOPY . /ctx/\nCMD [\"ls\", \"-A\", \"/ctx\"]\n",
		"app.Dockerfile.dockerignore": "*.txt\n!keep.txt\n",
		".dockerignore":               "b.log\n",
		"a.txt":                       "a\n",
		"keep.txt":                    "k\n",
		"b.log":                       "b\n",
	})
	img, _, err := e.build(t, Options{Context: dir, Dockerfile: filepath.Join(dir, "app.Dockerfile")})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := e.run(t, img); code != 0 || out != ".dockerignore\napp.Dockerfile\napp.Dockerfile.dockerignore\nb.log\nkeep.txt\n" {
		t.Errorf("run: %d %q", code, out)
	}
}
