package volume

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

func TestWriteFileRef(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	uid, gid := os.Getuid(), os.Getgid()
	p, err := WriteFileRef(dir, "db_password", []byte("s3cret"), uid, gid, 0o440)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "s3cret", uid, gid, 0o440)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("parent: %v %v", fi.Mode(), err)
	}
	// Rewriting replaces the content; no temporary file remains.
	if _, err := WriteFileRef(dir, "db_password", []byte("new"), uid, gid, 0o400); err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "new", uid, gid, 0o400)
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries", len(ents))
	}
	if _, err := WriteFileRef(dir, "../x", nil, uid, gid, 0o400); !errors.Is(err, ErrInvalidName) {
		t.Errorf("escaping name: %v", err)
	}
}

func TestWriteFileRefOwner(t *testing.T) {
	testutil.RequiresRoot(t)
	p, err := WriteFileRef(t.TempDir(), "cfg", []byte("c"), 1000, 1001, 0o4751)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "c", 1000, 1001, 0o751|os.ModeSetuid)
}

func checkFile(t *testing.T, p, content string, uid, gid int, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != content {
		t.Errorf("%s: %q %v", p, b, err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || int(st.Gid) != gid || fi.Mode() != mode {
		t.Errorf("%s: %d:%d %v, want %d:%d %v", p, st.Uid, st.Gid, fi.Mode(), uid, gid, mode)
	}
}
