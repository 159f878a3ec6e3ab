package build

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/berth-dev/berth/image"
)

// stageOf parses a one-stage Dockerfile body after "FROM scratch".
func stageOf(t *testing.T, body string) []instructions.Command {
	t.Helper()
	df, err := parseDockerfile("Dockerfile", []byte("FROM scratch\n"+body))
	if err != nil {
		t.Fatal(err)
	}
	return df.stages[0].Commands
}

func TestApplyConfig(t *testing.T) {
	s := stageConfig{cfg: image.Config{Cmd: []string{"base"}, Env: []string{"PATH=/bin", "A=0"}}, shell: defaultShell}
	for _, cmd := range stageOf(t, `ENV A=1 B="two words"
LABEL a=1 "b c"=d
EXPOSE 80 53/UDP 80/tcp
VOLUME ["/data", "/cache"]
USER 1000:1000
WORKDIR /app
WORKDIR sub
ENTRYPOINT exec server
HEALTHCHECK --interval=3s CMD curl -f localhost
STOPSIGNAL SIGINT
SHELL ["/bin/bash", "-ec"]
CMD run now
MAINTAINER someone
`) {
		if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
			if err := ex.Expand(expander(shell.NewLex('\\'), scope{})); err != nil {
				t.Fatal(err)
			}
		}
		if handled, err := s.apply(cmd); !handled || err != nil {
			t.Fatalf("%s: handled %v err %v", cmd.Name(), handled, err)
		}
	}
	c := s.cfg
	if !slices.Equal(c.Env, []string{"PATH=/bin", "A=1", "B=two words"}) {
		t.Errorf("env %q", c.Env)
	}
	if c.Labels["a"] != "1" || c.Labels["b c"] != "d" {
		t.Errorf("labels %v", c.Labels)
	}
	if !slices.Equal(c.ExposedPorts, []string{"53/udp", "80/tcp"}) || !slices.Equal(c.Volumes, []string{"/cache", "/data"}) {
		t.Errorf("ports %v volumes %v", c.ExposedPorts, c.Volumes)
	}
	if c.User != "1000:1000" || c.WorkingDir != "/app/sub" || c.StopSignal != "SIGINT" {
		t.Errorf("user %q workdir %q stop %q", c.User, c.WorkingDir, c.StopSignal)
	}
	// ENTRYPOINT dropped the inherited CMD; the later CMD runs through
	// the SHELL set before it.
	if !slices.Equal(c.Entrypoint, []string{"/bin/sh", "-c", "exec server"}) || !slices.Equal(c.Cmd, []string{"/bin/bash", "-ec", "run now"}) {
		t.Errorf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
	}
	if h := c.Healthcheck; h == nil || !slices.Equal(h.Test, []string{"CMD-SHELL", "curl -f localhost"}) || h.Interval.Seconds() != 3 {
		t.Errorf("healthcheck %+v", h)
	}
	// A RUN is not metadata.
	if handled, _ := s.apply(stageOf(t, "RUN true")[0]); handled {
		t.Error("RUN handled as metadata")
	}
	if _, err := s.apply(stageOf(t, "EXPOSE 80/bogus")[0]); err == nil {
		t.Error("EXPOSE 80/bogus accepted")
	}
}

func TestEntrypointKeepsCmdOfSameStage(t *testing.T) {
	s := stageConfig{shell: defaultShell}
	for _, cmd := range stageOf(t, "CMD [\"x\"]\nENTRYPOINT [\"e\"]\n") {
		s.apply(cmd)
	}
	if !slices.Equal(s.cfg.Cmd, []string{"x"}) {
		t.Errorf("cmd %q", s.cfg.Cmd)
	}
}

func TestArgsAndExpansion(t *testing.T) {
	global := map[string]string{}
	lex := shell.NewLex('\\')
	df, err := parseDockerfile("Dockerfile", []byte("ARG V=1\nARG W\nFROM scratch\nARG V\nARG X=${V}-x\nARG Y=y\nENV Y=from-env\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range df.metaArgs {
		df.metaArgs[i].Expand(expander(lex, scope{args: global}))
		declareArgs(global, &df.metaArgs[i], map[string]string{"W": "given"}, nil)
	}
	if global["V"] != "1" || global["W"] != "given" {
		t.Errorf("global args %v", global)
	}
	s := scope{args: map[string]string{}}
	for _, cmd := range df.stages[0].Commands[:3] {
		a := cmd.(*instructions.ArgCommand)
		a.Expand(expander(lex, s))
		declareArgs(s.args, a, map[string]string{"Y": "built"}, global)
	}
	if s.args["V"] != "1" || s.args["X"] != "1-x" || s.args["Y"] != "built" || len(s.args) != 3 {
		t.Errorf("stage args %v", s.args)
	}
	s.env = []string{"Y=from-env"}
	if v, _ := s.Get("Y"); v != "from-env" {
		t.Errorf("ENV must win over ARG, got %q", v)
	}
	if got := s.runEnv(); !slices.Equal(got, []string{"V=1", "X=1-x", "Y=from-env"}) {
		t.Errorf("run env %q", got)
	}
	out, _, err := lex.ProcessWord("${MISSING:-dflt}/$X", s)
	if err != nil || out != "dflt/1-x" {
		t.Errorf("expansion %q %v", out, err)
	}
}

func TestParseErrorNamesLine(t *testing.T) {
	_, err := parseDockerfile("ctx/Dockerfile", []byte("FROM scratch\n\nCOPY --bogus=1 a b\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "ctx/Dockerfile:3: ") {
		t.Errorf("error %v", err)
	}
	if _, err := parseDockerfile("D", []byte("ARG X=1\n")); !errors.Is(err, ErrNoStages) {
		t.Errorf("no FROM: %v", err)
	}
	if _, err := parseDockerfile("D", []byte("FROM scratch\nFROOM x\n")); err == nil || !strings.Contains(err.Error(), "D:2:") {
		t.Errorf("unknown instruction: %v", err)
	}
}

func TestStepKey(t *testing.T) {
	cmds := stageOf(t, "RUN make\nRUN make test\n")
	conf := stageConfig{shell: defaultShell}
	k := func(parent string, cmd instructions.Command, c stageConfig, s scope, extra string) string {
		key, err := stepKey(parent, cmd, c, s, extra)
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	base := k("p", cmds[0], conf, scope{}, "")
	if base != k("p", cmds[0], conf, scope{}, "") {
		t.Fatal("key not stable")
	}
	other := conf
	other.cfg.User = "app"
	for name, key := range map[string]string{
		"parent":      k("q", cmds[0], conf, scope{}, ""),
		"instruction": k("p", cmds[1], conf, scope{}, ""),
		"args":        k("p", cmds[0], conf, scope{args: map[string]string{"A": "1"}}, ""),
		"content":     k("p", cmds[0], conf, scope{}, "digest"),
		"user":        k("p", cmds[0], other, scope{}, ""),
	} {
		if key == base {
			t.Errorf("a different %s gives the same key", name)
		}
	}
}

func TestWhiteoutNames(t *testing.T) {
	if got := whiteoutName("a/b/c"); got != "a/b/.wh.c" {
		t.Errorf("whiteoutName %q", got)
	}
	if got := whiteoutName("top"); got != ".wh.top" {
		t.Errorf("whiteoutName %q", got)
	}
	if got := opaqueName("a/b"); got != "a/b/.wh..wh..opq" {
		t.Errorf("opaqueName %q", got)
	}
}

func TestIgnoreMatcher(t *testing.T) {
	pm, err := parseIgnore(".dockerignore", []byte("# comment\n*.log\nbuild\n!build/keep.txt\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := ignoreMatcher{pm}
	for _, tc := range []struct {
		rel               string
		dir, ign, descend bool
	}{
		{"app.txt", false, false, true},
		{"x.log", false, true, false},
		{"build", true, true, true}, // excluded, but holds a re-included file
		{"build/obj.o", false, true, false},
		{"build/keep.txt", false, false, true},
	} {
		ign, descend, err := m.ignored(tc.rel, tc.dir)
		if err != nil || ign != tc.ign || (ign && descend != tc.descend) {
			t.Errorf("%s: ignored %v descend %v err %v", tc.rel, ign, descend, err)
		}
	}
}

func TestCleanSource(t *testing.T) {
	for in, want := range map[string]string{".": "", "/a/b": "a/b", "a/./b/": "a/b", "a/../b": "b"} {
		if got, err := cleanSource(in); err != nil || got != want {
			t.Errorf("cleanSource(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"..", "../x", "a/../../x"} {
		if _, err := cleanSource(in); !errors.Is(err, ErrOutsideContext) {
			t.Errorf("cleanSource(%q): %v", in, err)
		}
	}
}

func TestStageSelection(t *testing.T) {
	df, err := parseDockerfile("D", []byte("FROM scratch AS Base\nFROM base AS app\nFROM scratch\n"))
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := stageIndex(df.stages, "BASE", 1); !ok || i != 0 {
		t.Errorf("by name: %d %v", i, ok)
	}
	if _, ok := stageIndex(df.stages, "app", 1); ok {
		t.Error("a later stage is found")
	}
	if i, ok := stageIndex(df.stages, "1", 3); !ok || i != 1 {
		t.Errorf("by index: %d %v", i, ok)
	}
	if i, err := targetIndex(df.stages, ""); err != nil || i != 2 {
		t.Errorf("default target %d %v", i, err)
	}
	if _, err := targetIndex(df.stages, "nope"); !errors.Is(err, ErrNoStage) {
		t.Errorf("missing target: %v", err)
	}
}
