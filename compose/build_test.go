package compose

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/build"
	"github.com/berth-dev/berth/engine"
)

func TestBuildArgs(t *testing.T) {
	t.Setenv("FROM_ENV", "env-value")
	got, err := buildArgs([]string{"A=1", "B=", "FROM_ENV", "UNSET_ARG_X"})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"A": "1", "B": "", "FROM_ENV": "env-value"}) {
		t.Errorf("buildArgs = %v, %v", got, err)
	}
	if _, err := buildArgs([]string{"=x"}); err == nil || !strings.Contains(err.Error(), "--build-arg") {
		t.Errorf("buildArgs(=x): %v", err)
	}
}

// Plain build progress is BuildKit's: the step, its output lines, CACHED
// or DONE with its duration.
func TestPlainBuildProgress(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b)
	ev := func(e build.Event) { p.build(engine.BuildProgress{Service: "web", Image: "app-web", Event: e}) }
	ev(build.Event{Step: 1, Instruction: "COPY . /app"})
	ev(build.Event{Step: 1, Instruction: "COPY . /app", Done: true, Cached: true})
	ev(build.Event{Step: 2, Instruction: "RUN make"})
	ev(build.Event{Step: 2, Instruction: "RUN make", Line: "compiling"})
	ev(build.Event{Step: 2, Instruction: "RUN make", Done: true, Duration: 1500 * time.Millisecond})
	want := "#1 [web] COPY . /app\n#1 [web] CACHED\n#2 [web] RUN make\n#2 [web] compiling\n#2 [web] DONE 1.5s\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
