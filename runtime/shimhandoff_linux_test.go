package runtime

import (
	"encoding/json"
	"os"
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

// The handoff is written into an unnamed file on the container
// directory's filesystem, not a memfd, whose pages would stay in memory
// while the shim is idle; readHandoff reads it back whole and closes it.
func TestHandoffInUnnamedFileOfDir(t *testing.T) {
	h := handoff{Lock: 4, Listener: 5, Outputs: []handoffOutput{{"stdout", frameStdout, 6}, {"stderr", frameStderr, 7}},
		Stdin: -1, Master: -1, Pid: 42, StartedAt: time.Unix(1700000000, 5).UTC(), Spec: json.RawMessage(`{"ociVersion":"1.2.0"}`)}
	dir := t.TempDir()
	fd, err := writeHandoff(dir, h) // the offset is left at the end, as reexec leaves it
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	var fs, dirFS unix.Statfs_t
	if err := unix.Fstat(fd, &st); err != nil || st.Nlink != 0 || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("the handoff's file: nlink %d, mode %o, %v; want an unnamed regular file", st.Nlink, st.Mode, err)
	}
	if unix.Fstatfs(fd, &fs) != nil || unix.Statfs(dir, &dirFS) != nil || fs.Type != dirFS.Type || fs.Fsid != dirFS.Fsid {
		t.Errorf("the handoff's file is on filesystem %#x, not its directory's %#x", fs.Type, dirFS.Type)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the handoff left %d names in its directory", len(ents))
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
