package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// names lists dir's entries, so a test sees any temporary file left.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// Write replaces the file's content whole, longer or shorter, with every
// durability, and leaves no temporary file in the directory.
func TestWriteReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	for _, data := range []string{"a longer first content", "two", ""} {
		for _, opts := range [][]Option{nil, {SyncFile()}, {Durable()}} {
			if err := Write(p, []byte(data), opts...); err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(p); err != nil || string(got) != data {
				t.Fatalf("read back %q, %v; want %q", got, err, data)
			}
		}
	}
	if got := names(t, dir); !slices.Equal(got, []string{"config.json"}) {
		t.Errorf("left in the directory: %v", got)
	}
}

// The mode and owner are on the file before the first byte is written:
// no reader of the temporary file, and no crash, sees the data with the
// default owner and mode.
func TestWriteModeOwnerBeforeData(t *testing.T) {
	uid, gid := os.Getuid(), os.Getgid()
	mode := os.FileMode(0o640)
	if uid == 0 {
		uid, gid = 1000, 1001
		mode = 0o751 | os.ModeSetuid | os.ModeSetgid // kept: the owner changes first
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "secret")
	err := WriteFunc(p, func(w io.Writer) error {
		f := w.(*os.File)
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Size() != 0 || fi.Mode() != mode || int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("before the data: size %d, %v %d:%d; want 0, %v %d:%d", fi.Size(), fi.Mode(), st.Uid, st.Gid, mode, uid, gid)
		}
		_, err = w.Write([]byte("s3cret"))
		return err
	}, Owner(uid, gid), Mode(mode), Durable())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode() != mode || int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("written: %v %d:%d; want %v %d:%d", fi.Mode(), st.Uid, st.Gid, mode, uid, gid)
	}
}

// Without Mode the file is private (0600 less the umask), and a Mode of 0
// is applied, not taken for "unset".
func TestWriteModeDefaultAndZero(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := Write(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode()&0o077 != 0 {
		t.Errorf("default mode %v, %v: readable by others", fi.Mode(), err)
	}
	if err := Write(p, []byte("x"), Mode(0)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode() != 0 {
		t.Errorf("Mode(0) gave %v, %v", fi.Mode(), err)
	}
}

// Every failure leaves the old file as it was and no temporary file.
func TestWriteFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if err := Write(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// The content fails half-way.
	boom := errors.New("boom")
	err := WriteFunc(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	}, Durable())
	if err != boom {
		t.Errorf("failing content: %v; want boom as it is", err)
	}
	if os.Getuid() != 0 { // root may give any owner
		if err := Write(p, []byte("new"), Owner(0, 0)); err == nil {
			t.Error("giving the file to root succeeded for a user")
		}
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "old" {
		t.Errorf("after the failures: %q, %v; want old", got, err)
	}
	// The rename fails: the name is a directory that is not empty.
	busy := filepath.Join(dir, "busy")
	if err := os.MkdirAll(filepath.Join(busy, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(busy, []byte("x"), SyncFile()); err == nil || !strings.Contains(err.Error(), busy) {
		t.Errorf("writing over a directory that is not empty: %v", err)
	}
	if got := names(t, busy); !slices.Equal(got, []string{"in"}) {
		t.Errorf("the directory written over holds %v", got)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"busy", "state.json"}) {
		t.Errorf("left in the directory: %v", got)
	}
}

// A directory that cannot be written gives an error that names the path.
func TestWriteUnwritableDir(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing", "f")
	if err := Write(missing, []byte("x")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("in a missing directory: %v", err)
	}
	if os.Getuid() != 0 { // root writes in a read-only directory
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		if err := Write(filepath.Join(ro, "f"), []byte("x")); !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), filepath.Join(ro, "f")) {
			t.Errorf("in a read-only directory: %v", err)
		}
	}
	// Under a file: not a directory, whoever writes.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(file, "f"), []byte("x"), Durable()); !errors.Is(err, syscall.ENOTDIR) || !strings.Contains(err.Error(), filepath.Join(file, "f")) {
		t.Errorf("under a file: %v", err)
	}
}

// SyncDir syncs a directory, and fails on a missing one with an error
// naming it.
func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	if err := SyncDir(missing); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("syncing a missing directory: %v", err)
	}
}
