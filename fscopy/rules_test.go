package fscopy

import (
	"errors"
	"path"
	"testing"
)

// fakeFS is a tree as a map: "d" a directory, "f" a file, "c" a device,
// "->target" a symlink. Parents of every path are implied to exist.
type fakeFS map[string]string

// walk resolves the directories of p (all but the last element) through links.
func (f fakeFS) walk(p string) string {
	dir, base := Split(p)
	if dir == "/" || dir == p {
		return path.Join(dir, base)
	}
	dir = f.walk(dir)
	for range 10 {
		v := f[dir]
		if len(v) < 2 || v[:2] != "->" {
			break
		}
		t := v[2:]
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(dir), t)
		}
		dir = t
	}
	if base == "." {
		return dir
	}
	return path.Join(dir, base)
}

func (f fakeFS) Lstat(p string) (Info, error) {
	p = f.walk(p)
	if p == "/" {
		return Info{Exists: true, IsDir: true}, nil
	}
	switch v := f[p]; {
	case v == "d":
		return Info{Exists: true, IsDir: true}, nil
	case v == "f":
		return Info{Exists: true, Regular: true}, nil
	case v == "c":
		return Info{Exists: true}, nil
	case len(v) > 2:
		return Info{Exists: true, IsLink: true}, nil
	}
	return Info{}, nil
}

func (f fakeFS) Readlink(p string) (string, error) { return f[f.walk(p)][2:], nil }

func (f fakeFS) Stat(p string) (Info, error) {
	i, err := f.Lstat(p)
	if i.IsLink {
		_, i, err = follow(f, f.walk(p))
	}
	return i, err
}

var tree = fakeFS{
	"/etc": "d", "/etc/passwd": "f", "/etc/shadow": "f",
	"/data": "d", "/data/a": "f",
	"/link-dir": "->/data", "/link-file": "->etc/passwd", "/dangling": "->/new-file",
	"/loop": "->/loop", "/dev": "d", "/dev/null": "c", "/ln-null": "->/dev/null",
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", ".": "/.", "/": "/", "a": "/a", "a/": "/a/", "a/.": "/a/.", "/a/b/../c/": "/a/c/",
		"../../etc": "/etc", "/.": "/.", "a//b/./": "/a/b/",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	for in, want := range map[string][2]string{
		"/a/b": {"/a", "b"}, "/a/b/": {"/a", "b"}, "/a/b/.": {"/a/b", "."}, "/.": {"/", "."}, "/a": {"/", "a"}, "/": {"/", "."}, "": {"/", "."}, "/..": {"/", "."},
	} {
		if d, b := Split(in); d != want[0] || b != want[1] {
			t.Errorf("Split(%q) = %q, %q, want %q", in, d, b, want)
		}
	}
}

func TestResolveSource(t *testing.T) {
	cases := []struct {
		path   string
		follow bool
		want   Source
		err    error
	}{
		{"/etc/passwd", false, Source{Path: "/etc/passwd", Name: "passwd"}, nil},
		{"etc", false, Source{Path: "/etc", Name: "etc", IsDir: true}, nil},
		{"/etc/", false, Source{Path: "/etc/", Name: "etc", IsDir: true}, nil},
		{"/etc/.", false, Source{Path: "/etc/.", Name: ".", IsDir: true}, nil},
		{"/link-file", false, Source{Path: "/link-file", Name: "link-file"}, nil},        // the link itself
		{"/link-file", true, Source{Path: "/etc/passwd", Name: "link-file"}, nil},        // -L: the target, under the link's name
		{"/link-dir/", false, Source{Path: "/data", Name: "link-dir", IsDir: true}, nil}, // a trailing slash follows
		{"/link-dir/.", false, Source{Path: "/link-dir/.", Name: ".", IsDir: true}, nil}, // the content, through the link
		{"/link-dir/a", false, Source{Path: "/link-dir/a", Name: "a"}, nil},              // links before the last element are followed by the FS
		{"/", false, Source{Path: "/", Name: ".", IsDir: true}, nil},                     // the root is its content
		{"/nope", false, Source{}, ErrNotFound},
		{"/etc/passwd/", false, Source{}, ErrNotDir},
		{"/etc/passwd/.", false, Source{}, ErrNotDir},
		{"/dangling", true, Source{}, ErrNotFound},
		{"/loop", true, Source{}, ErrTooManyLinks},
	}
	for _, c := range cases {
		got, err := ResolveSource(tree, c.path, c.follow)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("ResolveSource(%q, %v) = %+v, %v; want %+v, %v", c.path, c.follow, got, err, c.want, c.err)
		}
	}
}

func TestResolveDest(t *testing.T) {
	cases := []struct {
		path string
		want Dest
		err  error
	}{
		{"/etc", Dest{Path: "/etc", Exists: true, IsDir: true}, nil},
		{"/etc/passwd", Dest{Path: "/etc/passwd", Exists: true, Regular: true}, nil},
		{"/etc/new", Dest{Path: "/etc/new"}, nil},
		{"/etc/new/", Dest{Path: "/etc/new/"}, nil},
		{"/link-dir", Dest{Path: "/data", Exists: true, IsDir: true}, nil},
		{"/link-file", Dest{Path: "/etc/passwd", Exists: true, Regular: true}, nil},
		{"/dangling", Dest{Path: "/new-file"}, nil}, // a dangling link names the file to create
		{"/nope/x", Dest{}, ErrNotFound},
		{"/etc/passwd/x", Dest{}, ErrNotDir},
		{"/dev/null", Dest{}, ErrBadDest},
		{"/ln-null", Dest{}, ErrBadDest},
		{"/loop", Dest{}, ErrTooManyLinks},
	}
	for _, c := range cases {
		got, err := ResolveDest(tree, c.path)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("ResolveDest(%q) = %+v, %v; want %+v, %v", c.path, got, err, c.want, c.err)
		}
	}
}

func TestPlace(t *testing.T) {
	file := Source{Path: "/src/f", Name: "f"}
	dir := Source{Path: "/src/d", Name: "d", IsDir: true}
	content := Source{Path: "/src/d/.", Name: ".", IsDir: true}
	cases := []struct {
		name string
		src  Source
		dst  Dest
		want Placement
		err  error
	}{
		{"file into dir", file, Dest{Path: "/out", Exists: true, IsDir: true}, Placement{"/out", "f"}, nil},
		{"file into dir/.", file, Dest{Path: "/out/.", Exists: true, IsDir: true}, Placement{"/out", "f"}, nil},
		{"file onto file", file, Dest{Path: "/out/g", Exists: true, Regular: true}, Placement{"/out", "g"}, nil},
		{"file to new name", file, Dest{Path: "/out/g"}, Placement{"/out", "g"}, nil},
		{"file to new dir/", file, Dest{Path: "/out/g/"}, Placement{}, ErrDirNotExists},
		{"dir into dir", dir, Dest{Path: "/out", Exists: true, IsDir: true}, Placement{"/out", "d"}, nil},
		{"dir to new name", dir, Dest{Path: "/out/e"}, Placement{"/out", "e"}, nil},
		{"dir to new name/", dir, Dest{Path: "/out/e/"}, Placement{"/out", "e"}, nil},
		{"dir onto file", dir, Dest{Path: "/out/g", Exists: true, Regular: true}, Placement{}, ErrCannotCopyDir},
		{"content into dir", content, Dest{Path: "/out", Exists: true, IsDir: true}, Placement{"/out", "."}, nil},
		{"content to new dir", content, Dest{Path: "/out/e"}, Placement{"/out", "e"}, nil},
		{"content onto file", content, Dest{Path: "/out/g", Exists: true, Regular: true}, Placement{}, ErrCannotCopyDir},
		{"into root", file, Dest{Path: "/", Exists: true, IsDir: true}, Placement{"/", "f"}, nil},
	}
	for _, c := range cases {
		got, err := Place(c.src, c.dst)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("%s: Place = %+v, %v; want %+v, %v", c.name, got, err, c.want, c.err)
		}
	}
}
