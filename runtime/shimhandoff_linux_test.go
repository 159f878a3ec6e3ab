package runtime

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReexecEnvPutsOursFirst(t *testing.T) {
	got := reexecEnv([]string{"PATH=/bin", "GOGC=off", "GOMAXPROCS=8", handoffEnv + "=9", "X=GOGC=1"}, 5)
	want := append(append([]string{handoffEnv + "=5"}, reexecGoEnv...), "PATH=/bin", "X=GOGC=1")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reexecEnv = %q, want %q", got, want)
	}
}

func TestReadHandoffFromMemfd(t *testing.T) {
	h := handoff{Lock: 4, Listener: 5, Outputs: []handoffOutput{{"stdout", frameStdout, 6}, {"stderr", frameStderr, 7}},
		Stdin: -1, Master: -1, Pid: 42, StartedAt: time.Unix(1700000000, 5).UTC(), Spec: json.RawMessage(`{"ociVersion":"1.2.0"}`)}
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.MemfdCreate("test-handoff", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fd, data); err != nil { // the offset is left at the end, as reexec leaves it
		t.Fatal(err)
	}
	got, err := readHandoff(strconv.Itoa(fd))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, h) {
		t.Fatalf("readHandoff = %+v, want %+v", got, h)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
		t.Fatal("the handoff's descriptor is still open")
	}
	if _, err := readHandoff("nope"); err == nil {
		t.Fatal("readHandoff accepted a bad descriptor number")
	}
}
