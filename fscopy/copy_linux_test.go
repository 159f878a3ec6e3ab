package fscopy

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// mkTree makes files ("content"), directories (trailing "/") and symlinks
// ("->target") under dir.
func mkTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		v := files[n]
		switch {
		case strings.HasSuffix(n, "/"):
			err := os.MkdirAll(p, 0o755)
			if err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(v, "->"):
			if err := os.Symlink(v[2:], p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(v), 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func openRoot(t *testing.T, dir string) *Root {
	t.Helper()
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var me = Options{Owner: Owner{UID: os.Getuid(), GID: os.Getgid()}}

func TestCopyRules(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	mkTree(t, src, map[string]string{"d/a": "A", "d/sub/b": "B", "f": "F", "d/ln": "->a"})
	mkTree(t, dst, map[string]string{"out/": "", "file": "old"})
	s, d := openRoot(t, src), openRoot(t, dst)
	steps := []struct{ from, to, check, want string }{
		{"/f", "/out", "out/f", "F"},                     // a file into a directory
		{"/f", "/file", "file", "F"},                     // a file onto a file
		{"/f", "/new", "new", "F"},                       // a file to a new name
		{"/d", "/out", "out/d/sub/b", "B"},               // a directory into a directory
		{"/d", "/copy", "copy/sub/b", "B"},               // a directory to a new name
		{"/d/.", "/out", "out/a", "A"},                   // a directory's content
		{"/d/.", "/content", "content/a", "A"},           // a directory's content to a new directory
		{"d/ln", "/out/link-copy", "out/link-copy", "A"}, // the link, read through
	}
	for _, st := range steps {
		if err := Copy(s, st.from, d, st.to, me); err != nil {
			t.Fatalf("%s to %s: %v", st.from, st.to, err)
		}
		if got := read(t, filepath.Join(dst, st.check)); got != st.want {
			t.Errorf("%s to %s: %s = %q, want %q", st.from, st.to, st.check, got, st.want)
		}
	}
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(src, "f"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := Copy(s, "/f", d, "/timed", me); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "timed")); err != nil || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(old) {
		t.Errorf("mode and time kept: %v %v, %v", fi.Mode(), fi.ModTime(), err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "out/link-copy")); err != nil || l != "a" {
		t.Errorf("a symlink is copied as a symlink: %q, %v", l, err)
	}
	// The source's root is its content, looked up in the root, never the host's "/".
	if err := Copy(openRoot(t, filepath.Join(src, "d")), "/", d, "/whole", me); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dst, "whole/sub/b")); got != "B" {
		t.Errorf("/ to /whole: %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dst, "whole/etc")); err == nil {
		t.Error("copying a root's / copied the host's /")
	}
	if err := Copy(s, "/d", d, "/file", me); !errors.Is(err, ErrCannotCopyDir) {
		t.Errorf("directory onto file: %v", err)
	}
	if err := Copy(s, "/f", d, "/nodir/", me); !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrDirNotExists) {
		t.Errorf("file to a missing directory: %v", err)
	}
	if err := Copy(s, "/d", d, "/out/d/a", me); err == nil {
		t.Errorf("directory onto the file out/d/a: no error")
	}
}

// TestSymlinkStaysInRoot: an absolute symlink inside a root means the
// root's own file, read or written, never the host's.
func TestSymlinkStaysInRoot(t *testing.T) {
	ctr, host := t.TempDir(), t.TempDir()
	mkTree(t, ctr, map[string]string{"etc/shadow": "container shadow", "secret": "->/etc/shadow", "etcdir": "->/etc", "up": "->../../../../../../etc"})
	c, h := openRoot(t, ctr), openRoot(t, host)
	if err := Copy(c, "/secret", h, "/got", Options{FollowLink: true, Owner: me.Owner}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(host, "got")); got != "container shadow" {
		t.Errorf("followed /secret gave %q, want the container's file", got)
	}
	if err := Copy(c, "/up/shadow", h, "/got2", me); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(host, "got2")); got != "container shadow" {
		t.Errorf("../ beyond the root gave %q", got)
	}
	// Writing through the container's /etcdir link lands in its /etc.
	mkTree(t, host, map[string]string{"passwd": "new"})
	if err := Copy(h, "/passwd", c, "/etcdir/", me); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(ctr, "etc/passwd")); got != "new" {
		t.Errorf("copy through /etcdir/: %q", got)
	}
}

// TestExtractConfined: an archive's names and links never leave the
// extraction directory.
func TestExtractConfined(t *testing.T) {
	outside := t.TempDir()
	dir := t.TempDir()
	archive := func(entries ...*tar.Header) *bytes.Buffer {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, h := range entries {
			body := ""
			if h.Typeflag == tar.TypeReg {
				body = h.Name
			}
			h.Size, h.Mode = int64(len(body)), 0o644
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			tw.Write([]byte(body))
		}
		tw.Close()
		return &b
	}
	// A link to an absolute path means that path inside the root, where
	// nothing exists: the entry below it fails, and nothing is written outside.
	err := ExtractArchive(archive(
		&tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: outside},
		&tar.Header{Name: "esc/pwned", Typeflag: tar.TypeReg},
	), openRoot(t, dir), "/", me.Owner)
	if err == nil {
		t.Error("esc/pwned through a link to a missing directory: no error")
	}
	if _, err := os.Stat(filepath.Join(outside, "pwned")); err == nil {
		t.Fatal("a file was written through a symlink out of the root")
	}
	if err := ExtractArchive(archive(
		&tar.Header{Name: "../../dotdot", Typeflag: tar.TypeReg},
		&tar.Header{Name: "hard", Typeflag: tar.TypeLink, Linkname: "../../dotdot"},
	), openRoot(t, dir), "/", me.Owner); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "dotdot")); got != "../../dotdot" {
		t.Errorf("../../dotdot: %q", got)
	}
	if got := read(t, filepath.Join(dir, "hard")); got != "../../dotdot" {
		t.Errorf("hard link: %q", got)
	}
}

func TestArchiveNames(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, map[string]string{"d/a": "A", "d/sub/b": "B"})
	names := func(p string) []string {
		var b bytes.Buffer
		if err := WriteArchive(&b, openRoot(t, src), p, false); err != nil {
			t.Fatal(err)
		}
		var out []string
		tr := tar.NewReader(&b)
		for h, err := tr.Next(); err == nil; h, err = tr.Next() {
			out = append(out, h.Name)
		}
		return out
	}
	if got, want := strings.Join(names("/d"), " "), "d/ d/a d/sub/ d/sub/b"; got != want {
		t.Errorf("archive of /d: %s, want %s", got, want)
	}
	if got, want := strings.Join(names("/d/."), " "), "./ a sub/ sub/b"; got != want {
		t.Errorf("archive of /d/.: %s, want %s", got, want)
	}
}

// The kernel's filesystems are copied as empty directories.
func TestArchiveSkipsKernelFS(t *testing.T) {
	var b bytes.Buffer
	if err := WriteArchive(&b, openRoot(t, "/"), "/proc", false); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&b)
	var names []string
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
	}
	if len(names) != 1 || names[0] != "proc/" {
		t.Errorf("archive of /proc: %d entries %.5q, want just the directory", len(names), names)
	}
}
