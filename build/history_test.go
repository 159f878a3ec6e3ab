package build

import (
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/berth-dev/berth/image"
)

func TestCreatedBy(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`CMD echo hi`, `CMD ["/bin/sh" "-c" "echo hi"]`},
		{`ENTRYPOINT ["/app", "-v"]`, `ENTRYPOINT ["/app" "-v"]`},
		{`HEALTHCHECK --interval=5s --retries=3 CMD true`, `HEALTHCHECK {Test:[CMD-SHELL true] Interval:5s Timeout:0s StartPeriod:0s StartInterval:0s Retries:3}`},
		{`SHELL ["/bin/bash", "-c"]`, `SHELL [/bin/bash -c]`},
		{`VOLUME /a /b`, `VOLUME [/a /b]`},
		{`STOPSIGNAL SIGTERM`, `STOPSIGNAL SIGTERM`},
		{`LABEL a=1 b=2`, `LABEL a=1 b=2`},
		{`ADD --chown=1:2 a.tgz /opt/`, `ADD --chown=1:2 a.tgz /opt/ # buildkit`},
		{`COPY --from=build /out /bin/`, `COPY /out /bin/ # buildkit`},
		{`ARG X Y=2`, `ARG X Y=2`},
	} {
		res, err := parser.Parse(strings.NewReader(tc.line))
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := instructions.ParseCommand(res.AST.Children[0])
		if err != nil {
			t.Fatal(err)
		}
		r := &stageResult{args: map[string]string{"Y": "2"}, conf: stageConfig{shell: defaultShell}}
		if _, err := r.conf.apply(cmd); err != nil {
			t.Fatal(err)
		}
		if got, ok := createdBy(cmd, r, nil); !ok || got != tc.want {
			t.Errorf("%s: %q, want %q", tc.line, got, tc.want)
		}
	}
	r := &stageResult{args: map[string]string{"A": "1"}, argKeys: []string{"A", "B"}, conf: stageConfig{cfg: image.Config{Env: []string{"B=env"}}}}
	if got := runCommandString([]string{"/bin/sh", "-c", "make"}, r); got != "|2 A=1 B=env /bin/sh -c make" {
		t.Errorf("runCommandString: %q", got)
	}
}

func TestFillHistoryTimes(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	h := []image.History{{Created: at(1)}, {Created: at(2)}, {}, {}, {Created: at(10)}, {}, {Created: at(20)}, {}}
	fillHistoryTimes(h)
	want := []int{1, 2, 10, 10, 10, 10, 20, 20}
	for i, w := range want {
		if !h[i].Created.Equal(at(w)) {
			t.Errorf("entry %d: %v, want %d", i, h[i].Created.Unix(), w)
		}
	}
	h = []image.History{{Created: at(1)}, {}}
	if fillHistoryTimes(h); !h[1].Created.Equal(at(1)) {
		t.Errorf("no new layer: %v", h[1].Created)
	}
}
