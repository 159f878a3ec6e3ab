package runtime

import (
	"context"
	"slices"
	"testing"
)

func TestLogsAndExit(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("echo hello; echo err >&2")
	e.start(t, c)
	st := e.waitExited(t, c.ID)
	if st.ExitCode != 0 || st.FinishedAt.IsZero() {
		t.Errorf("state = %+v, want exited 0 with a finish time", st)
	}
	got := e.logLines(t, c.ID, LogOptions{Tail: -1})
	slices.Sort(got) // the two pipes are copied concurrently
	want := []string{"stderr: err", "stdout: hello"}
	if !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
	if err := e.rt.Remove(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.rt.State(context.Background(), c.ID); st.Status != StatusMissing {
		t.Errorf("after Remove: %+v", st)
	}
}
