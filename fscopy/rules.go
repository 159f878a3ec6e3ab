package fscopy

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Sentinel errors of the path rules, for errors.Is.
var (
	// ErrNotFound reports a source, or a destination's parent, that does not exist.
	ErrNotFound = errors.New("no such file or directory")
	// ErrNotDir reports a path that must be a directory and is not.
	ErrNotDir = errors.New("not a directory")
	// ErrCannotCopyDir reports a directory copied onto an existing file.
	ErrCannotCopyDir = errors.New("cannot copy directory")
	// ErrDirNotExists reports a file copied to a directory path (trailing
	// slash) that does not exist.
	ErrDirNotExists = errors.New("no such directory")
	// ErrBadDest reports a destination that is neither a directory nor a
	// regular file.
	ErrBadDest = errors.New("destination must be a directory or a regular file")
	// ErrTooManyLinks reports a symlink chain longer than docker follows.
	ErrTooManyLinks = errors.New("too many levels of symbolic links")
)

// Info is what lstat(2) says of a path, for the rules.
type Info struct {
	Exists  bool
	IsDir   bool
	IsLink  bool
	Regular bool
}

// FS is the view of a tree the rules need. Paths are absolute and resolved
// inside the tree; the final element is not followed.
type FS interface {
	Lstat(p string) (Info, error) // a missing path is Info{}, nil
	Readlink(p string) (string, error)
	Stat(p string) (Info, error) // follows the final symlink; a missing path is Info{}, nil
}

// Source is what is archived: Path in its tree, and the name its top
// entry gets in the archive.
type Source struct {
	Path  string
	Name  string // the top entry's name: the basename, "." for SRC/., or the requested name of a followed link
	IsDir bool
}

// Dest is a destination path after docker's symlink resolution.
type Dest struct {
	Path    string
	Exists  bool
	IsDir   bool
	Regular bool
}

// Clean makes p absolute in its tree ("" and relative paths start at
// "/"), cleaned, keeping a trailing "/" or "/." that changes the meaning
// of a copy.
func Clean(p string) string {
	c := path.Clean("/" + p)
	switch {
	case dotted(p) && c != "/":
		return c + "/."
	case dotted(p):
		return "/."
	case strings.HasSuffix(p, "/") && c != "/":
		return c + "/"
	}
	return c
}

// dotted reports whether p names a directory's content (ends in "/." or is ".").
func dotted(p string) bool { return p == "." || strings.HasSuffix(p, "/.") }

// assertsDir reports whether p can only name a directory.
func assertsDir(p string) bool { return strings.HasSuffix(p, "/") || dotted(p) }

// Split is p's directory and final element, with "." as the element of
// "DIR/." (the directory's content), as docker's SplitPathDirEntry. The
// root's element is "." too: an element is never absolute, so that it is
// always looked up in its directory's handle.
func Split(p string) (dir, base string) {
	c := path.Clean("/" + p)
	if dotted(p) || c == "/" {
		return c, "."
	}
	return path.Dir(c), path.Base(c)
}

// follow resolves the symlink chain starting at p (which is a link),
// joining relative targets to the link's directory.
func follow(fs FS, p string) (string, Info, error) {
	for range 40 {
		target, err := fs.Readlink(p)
		if err != nil {
			return "", Info{}, err
		}
		if !path.IsAbs(target) {
			dir, _ := Split(p)
			target = path.Join(dir, target)
		}
		p = path.Clean(target)
		info, err := fs.Lstat(p)
		if err != nil || !info.IsLink {
			return p, info, err
		}
	}
	return "", Info{}, fmt.Errorf("%s: %w", p, ErrTooManyLinks)
}

// ResolveSource finds what copying p archives. Symlinks before the last
// element are followed (inside the tree); the last one only with
// followLink (-L) or when p ends in "/" (it asserts a directory), and the
// archive then keeps the name p asked for.
func ResolveSource(fs FS, p string, followLink bool) (Source, error) {
	p = Clean(p)
	info, err := fs.Lstat(p)
	if err != nil {
		return Source{}, err
	}
	if !info.Exists {
		return Source{}, fmt.Errorf("%s: %w", p, ErrNotFound)
	}
	_, name := Split(p)
	resolved := p
	if info.IsLink && (followLink || assertsDir(p)) {
		if resolved, info, err = follow(fs, p); err != nil {
			return Source{}, err
		}
		if !info.Exists {
			return Source{}, fmt.Errorf("%s (target of %s): %w", resolved, p, ErrNotFound)
		}
	}
	if assertsDir(p) && !info.IsDir {
		return Source{}, fmt.Errorf("%s: %w", p, ErrNotDir)
	}
	return Source{Path: resolved, Name: name, IsDir: info.IsDir}, nil
}

// ResolveDest resolves destination p as docker does: a symlink at p is
// followed (up to 10 links; a dangling one names the file to create), and
// a missing destination needs an existing parent directory.
func ResolveDest(fs FS, p string) (Dest, error) {
	p = Clean(p)
	info, err := fs.Lstat(p)
	if err != nil {
		return Dest{}, err
	}
	for n := 0; info.IsLink; n++ {
		if n == 10 {
			return Dest{}, fmt.Errorf("%s: %w", p, ErrTooManyLinks)
		}
		target, err := fs.Readlink(p)
		if err != nil {
			return Dest{}, err
		}
		if !path.IsAbs(target) {
			dir, _ := Split(p)
			target = path.Join(dir, target)
		}
		p = path.Clean(target)
		if info, err = fs.Lstat(p); err != nil {
			return Dest{}, err
		}
	}
	if info.Exists {
		if !info.IsDir && !info.Regular {
			return Dest{}, fmt.Errorf("%s: %w", p, ErrBadDest)
		}
		return Dest{Path: p, Exists: true, IsDir: info.IsDir, Regular: info.Regular}, nil
	}
	parent, _ := Split(p)
	pinfo, err := fs.Stat(parent)
	switch {
	case err != nil:
		return Dest{}, err
	case !pinfo.Exists:
		return Dest{}, fmt.Errorf("directory %s: %w", parent, ErrNotFound)
	case !pinfo.IsDir:
		return Dest{}, fmt.Errorf("%s: %w", parent, ErrNotDir)
	}
	return Dest{Path: p}, nil
}

// Placement is where an archive of a source is extracted and under which
// name its top entry goes.
type Placement struct {
	Dir  string // an existing directory to extract into
	Name string // the top entry's name in the archive
}

// Place decides where src goes for dst, as docker's PrepareArchiveCopy:
// into an existing directory under its own name; onto an existing file,
// or to a new path, under the destination's name (a directory's content
// becomes the new directory).
func Place(src Source, dst Dest) (Placement, error) {
	dir, base := Split(dst.Path)
	switch {
	case dst.Exists && dst.IsDir:
		return Placement{Dir: path.Clean(dst.Path), Name: src.Name}, nil
	case dst.Exists && src.IsDir:
		return Placement{}, fmt.Errorf("%s onto file %s: %w", src.Path, dst.Path, ErrCannotCopyDir)
	case dst.Exists, src.IsDir:
		return Placement{Dir: dir, Name: base}, nil
	case assertsDir(dst.Path):
		return Placement{}, fmt.Errorf("%s: %w", dst.Path, ErrDirNotExists)
	}
	return Placement{Dir: dir, Name: base}, nil
}
