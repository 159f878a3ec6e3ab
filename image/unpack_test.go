package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// unpackFixture is a store next to a sentinel directory a hostile layer
// tries to reach: <base>/root (the store) and <base>/sentinel.
type unpackFixture struct {
	base, sentinel string
	store          *Store
}

// up is the relative path from an extraction directory
// (<base>/root/image/tmp/<dir>) back to <base>.
const up = "../../../../"

func newUnpackFixture(t *testing.T) *unpackFixture {
	t.Helper()
	base := t.TempDir()
	f := &unpackFixture{base: base, sentinel: filepath.Join(base, "sentinel")}
	if err := os.MkdirAll(filepath.Join(f.sentinel, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.sentinel, "file"), []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.store = mustOpen(t, filepath.Join(base, "root"))
	return f
}

// unpack extracts layer through the store's snapshot path.
func (f *unpackFixture) unpack(layer []byte) (string, error) {
	dir, _, err := f.store.ensureSnapshot(context.Background(), sha256Of(layer), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layer)), nil
	})
	return dir, err
}

func TestUnpackRefusesHostileLayers(t *testing.T) {
	// Escapes all aim at a sentinel directory the test owns, never at host files.
	cases := map[string]func(sentinel string) []tarEntry{
		"absolute path": func(s string) []tarEntry {
			return []tarEntry{file(s+"/pwned", "x")}
		},
		"dot-dot": func(string) []tarEntry {
			return []tarEntry{file("../x", "x")}
		},
		"dot-dot to sentinel": func(string) []tarEntry {
			return []tarEntry{file("a/../"+up+"sentinel/pwned", "x")}
		},
		"write through symlink to /": func(s string) []tarEntry {
			return []tarEntry{symlink("l", "/"), file("l"+s+"/pwned", "x")}
		},
		"write through symlink to ../../": func(string) []tarEntry {
			return []tarEntry{symlink("l", up), file("l/sentinel/pwned", "x")}
		},
		"write through absolute symlink to sentinel": func(s string) []tarEntry {
			return []tarEntry{symlink("d", s), file("d/pwned", "x")}
		},
		"write through symlink chain": func(string) []tarEntry {
			return []tarEntry{symlink("b", up+"sentinel"), symlink("a", "b"), file("a/pwned", "x")}
		},
		"overwrite through symlinked dir": func(s string) []tarEntry {
			return []tarEntry{symlink("d", s), file("d/file", "pwned")}
		},
		"mkdir through symlink": func(s string) []tarEntry {
			return []tarEntry{symlink("d", s), dir("d/newdir/")}
		},
		"symlink created through symlink": func(s string) []tarEntry {
			return []tarEntry{symlink("d", s), symlink("d/evil", "/")}
		},
		"whiteout through symlink": func(s string) []tarEntry {
			return []tarEntry{symlink("d", s), file("d/.wh.file", "")}
		},
		"opaque through symlink": func(s string) []tarEntry {
			return []tarEntry{symlink("d", s), file("d/.wh..wh..opq", "")}
		},
		"hardlink to /etc/passwd": func(string) []tarEntry {
			return []tarEntry{hardlink("p", "/etc/passwd")}
		},
		"hardlink with dot-dot": func(string) []tarEntry {
			return []tarEntry{hardlink("p", up+"sentinel/file")}
		},
		"hardlink through symlinked dir": func(s string) []tarEntry {
			return []tarEntry{symlink("d", s), hardlink("h", "d/file"), file("h", "pwned")}
		},
		"hardlink through relative symlinked dir": func(string) []tarEntry {
			return []tarEntry{symlink("d", up+"sentinel"), hardlink("h", "d/file")}
		},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			f := newUnpackFixture(t)
			before := treeState(t, f.sentinel)
			layer := mkTar(t, entries(f.sentinel)...)
			_, err := f.unpack(layer)
			if !errors.Is(err, ErrUnsafeLayer) {
				t.Errorf("unpack error = %v, want ErrUnsafeLayer", err)
			}
			assertSame(t, before, treeState(t, f.sentinel))
			assertEmptyDir(t, f.store.path("snapshots"))
			assertEmptyDir(t, f.store.path("tmp"))
		})
	}
}

// Some entries look hostile but are fine: they must succeed without ever
// following a symlink out of the root.
func TestUnpackReplacesSymlinksInsteadOfFollowing(t *testing.T) {
	cases := map[string]func(sentinel string) ([]tarEntry, func(t *testing.T, snap string)){
		"file replaces symlink to outside file": func(s string) ([]tarEntry, func(*testing.T, string)) {
			return []tarEntry{symlink("l", s+"/file"), file("l", "inside")}, func(t *testing.T, snap string) {
				assertFile(t, filepath.Join(snap, "l"), "inside")
			}
		},
		"dir replaces symlink to outside dir": func(s string) ([]tarEntry, func(*testing.T, string)) {
			return []tarEntry{symlink("d", s), dir("d/"), file("d/x", "in")}, func(t *testing.T, snap string) {
				fi, err := os.Lstat(filepath.Join(snap, "d"))
				if err != nil || !fi.IsDir() {
					t.Fatalf("d should be a real directory: %v %v", fi, err)
				}
				assertFile(t, filepath.Join(snap, "d/x"), "in")
			}
		},
		"hardlink replaces symlink": func(s string) ([]tarEntry, func(*testing.T, string)) {
			return []tarEntry{file("target", "t"), symlink("h", s+"/file"), hardlink("h", "target")}, func(t *testing.T, snap string) {
				assertFile(t, filepath.Join(snap, "h"), "t")
			}
		},
		"write through symlink staying inside": func(string) ([]tarEntry, func(*testing.T, string)) {
			return []tarEntry{dir("real/"), symlink("a/link", "../real"), file("a/link/f", "via link")}, func(t *testing.T, snap string) {
				assertFile(t, filepath.Join(snap, "real/f"), "via link")
			}
		},
		"hardlink to a symlink links the symlink": func(s string) ([]tarEntry, func(*testing.T, string)) {
			return []tarEntry{symlink("l", s+"/file"), hardlink("h", "l")}, func(t *testing.T, snap string) {
				if target, err := os.Readlink(filepath.Join(snap, "h")); err != nil || target != s+"/file" {
					t.Fatalf("h should be the symlink itself: %q %v", target, err)
				}
			}
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			f := newUnpackFixture(t)
			before := treeState(t, f.sentinel)
			entries, check := mk(f.sentinel)
			snap, err := f.unpack(mkTar(t, entries...))
			if err != nil {
				t.Fatal(err)
			}
			check(t, snap)
			assertSame(t, before, treeState(t, f.sentinel))
		})
	}
}

func TestUnpackAttributes(t *testing.T) {
	testutil.RequiresRoot(t)
	f := newUnpackFixture(t)
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	hdr := func(e tarEntry, mode int64, uid, gid int) tarEntry {
		e.Mode, e.Uid, e.Gid, e.ModTime = mode, uid, gid, mtime
		return e
	}
	xattr := file("x", "xattr")
	xattr.PAXRecords = map[string]string{"SCHILY.xattr.user.berth": "v", "SCHILY.xattr.trusted.overlay.opaque": "y"}
	layer := mkTar(t,
		hdr(dir("./"), 0o755, 0, 0),
		hdr(dir("priv/"), 0o700, 1000, 1001),
		hdr(file("priv/suid", "#!"), 0o4755, 1000, 1001),
		hdr(file("deep/a/b/c", "implicit parents"), 0o600, 0, 0),
		hdr(symlink("link", "priv/suid"), 0o777, 1000, 1000),
		hardlink("hard", "priv/suid"),
		tarEntry{Header: tar.Header{Typeflag: tar.TypeChar, Name: "null", Mode: 0o666, Devmajor: 1, Devminor: 3}},
		tarEntry{Header: tar.Header{Typeflag: tar.TypeFifo, Name: "fifo", Mode: 0o600}},
		xattr,
	)
	snap, err := f.unpack(layer)
	if err != nil {
		t.Fatal(err)
	}
	assertStat(t, filepath.Join(snap, "priv"), unix.S_IFDIR|0o700, 1000, 1001)
	assertStat(t, filepath.Join(snap, "priv/suid"), unix.S_IFREG|0o4755, 1000, 1001)
	assertStat(t, filepath.Join(snap, "deep/a/b"), unix.S_IFDIR|0o755, 0, 0)
	assertStat(t, filepath.Join(snap, "link"), unix.S_IFLNK|0o777, 1000, 1000)
	assertStat(t, filepath.Join(snap, "null"), unix.S_IFCHR|0o666, 0, 0)
	assertStat(t, filepath.Join(snap, "fifo"), unix.S_IFIFO|0o600, 0, 0)
	assertFile(t, filepath.Join(snap, "deep/a/b/c"), "implicit parents")
	var a, b unix.Stat_t
	if err := unix.Lstat(filepath.Join(snap, "hard"), &a); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lstat(filepath.Join(snap, "priv/suid"), &b); err != nil {
		t.Fatal(err)
	}
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("hard is not a hard link of priv/suid: ino %d vs %d, nlink %d", a.Ino, b.Ino, a.Nlink)
	}
	var null unix.Stat_t
	if err := unix.Lstat(filepath.Join(snap, "null"), &null); err != nil || unix.Major(null.Rdev) != 1 || unix.Minor(null.Rdev) != 3 {
		t.Errorf("null device: rdev %d:%d, %v", unix.Major(null.Rdev), unix.Minor(null.Rdev), err)
	}
	for _, p := range []string{"priv", "priv/suid", "link"} {
		fi, err := os.Lstat(filepath.Join(snap, p))
		if err != nil || !fi.ModTime().Equal(mtime) {
			t.Errorf("%s: mtime %v, want %v (%v)", p, fi.ModTime(), mtime, err)
		}
	}
	buf := make([]byte, 16)
	if n, err := unix.Lgetxattr(filepath.Join(snap, "x"), "user.berth", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("xattr user.berth = %q, %v", buf[:n], err)
	}
	if _, err := unix.Lgetxattr(filepath.Join(snap, "x"), "trusted.overlay.opaque", buf); !errors.Is(err, unix.ENODATA) {
		t.Errorf("a layer's own trusted.overlay.* xattr must be dropped, got %v", err)
	}
}

func TestUnpackDiffIDMismatch(t *testing.T) {
	f := newUnpackFixture(t)
	layer := mkTar(t, file("a", "b"))
	_, _, err := f.store.ensureSnapshot(context.Background(), sha256Of([]byte("other")), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layer)), nil
	})
	if err == nil || !strings.Contains(err.Error(), "diff ID mismatch") {
		t.Fatalf("want a diff ID mismatch, got %v", err)
	}
	assertEmptyDir(t, f.store.path("snapshots"))
	assertEmptyDir(t, f.store.path("tmp"))
}

func assertSame(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, d := range after {
		if before[p] != d {
			t.Errorf("outside the snapshot, %s changed: %q -> %q", p, before[p], d)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("outside the snapshot, %s disappeared", p)
		}
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s should be empty, holds %s", dir, e.Name())
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		t.Fatalf("%s is %v, want a regular file", path, fi.Mode())
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want {
		t.Fatalf("%s holds %q (%v), want %q", path, b, err, want)
	}
}

func assertStat(t *testing.T, path string, mode uint32, uid, gid uint32) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode != mode || st.Uid != uid || st.Gid != gid {
		t.Errorf("%s: mode %o uid %d gid %d, want mode %o uid %d gid %d", path, st.Mode, st.Uid, st.Gid, mode, uid, gid)
	}
}

var _ = v1.Hash{}
