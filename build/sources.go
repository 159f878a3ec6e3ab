package build

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
)

// entry is one file a COPY or ADD writes: where it is read in the source
// tree and the name it gets under the destination directory.
type entry struct {
	src  string // path in the source root, "a/b", "." for the top
	name string // path under the destination, "x/y"
	info fs.FileInfo
	link string // symlink target
	top  bool   // a source itself, not found in a source directory (ADD extracts those that are archives)
}

// tree is a source of COPY or ADD: the context (with its ignore file) or
// the filesystem of another stage. Every path is resolved inside root.
type tree struct {
	root   *os.Root
	ignore ignoreMatcher
}

// namedTree is the tree of a named context's directory: read like the
// context, without an ignore file.
func namedTree(dir string) (tree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return tree{}, err
	}
	return tree{root: root}, nil
}

// cleanSource turns a COPY source into a path in its tree, refusing one
// that leaves it: "/a" and "a" are both the tree's "a".
func cleanSource(src string) (string, error) {
	if p := path.Clean(src); p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("%s: %w", src, ErrOutsideContext)
	}
	return strings.TrimPrefix(path.Clean("/"+src), "/"), nil
}

// hasGlob reports whether p holds a wildcard.
func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// collect lists what the sources copy, and whether the destination is
// a directory by the sources alone (several, a glob, or a directory).
// A directory source contributes its content, a file its basename.
func (t tree) collect(srcs []string) (entries []entry, destIsDir bool, err error) {
	destIsDir = len(srcs) > 1
	for _, src := range srcs {
		rel, err := cleanSource(src)
		if err != nil {
			return nil, false, err
		}
		matches := []string{rel}
		if hasGlob(rel) {
			destIsDir = true
			if matches, err = t.glob(rel); err != nil {
				return nil, false, err
			}
			if len(matches) == 0 {
				return nil, false, fmt.Errorf("%s: no source files were specified: %w", src, ErrNoSource)
			}
		}
		for _, m := range matches {
			fi, err := t.lstat(m)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", src, err)
			}
			if fi.IsDir() {
				destIsDir = true
				if err := t.walk(m, "", &entries); err != nil {
					return nil, false, err
				}
				continue
			}
			e, err := t.entry(m, path.Base(m), fi)
			if err != nil {
				return nil, false, err
			}
			e.top = true
			entries = append(entries, e)
		}
	}
	return entries, destIsDir, nil
}

// lstat reads rel without following a final symlink; a missing or
// ignored path is ErrNoSource.
func (t tree) lstat(rel string) (fs.FileInfo, error) {
	if ign, _, err := t.ignore.ignored(rel, false); err != nil {
		return nil, err
	} else if ign {
		return nil, fmt.Errorf("excluded by .dockerignore: %w", ErrNoSource)
	}
	fi, err := t.root.Lstat(nonEmpty(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoSource
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOutsideContext, err)
	}
	return fi, nil
}

// entry describes one path; symlinks are kept as links.
func (t tree) entry(rel, name string, fi fs.FileInfo) (entry, error) {
	e := entry{src: nonEmpty(rel), name: name, info: fi}
	if fi.Mode()&fs.ModeSymlink != 0 {
		link, err := t.root.Readlink(e.src)
		if err != nil {
			return entry{}, fmt.Errorf("reading link %s: %w", rel, err)
		}
		e.link = link
	}
	return e, nil
}

// walk adds the content of directory dir (rel in the tree) under name,
// in lexical order, leaving out ignored paths.
func (t tree) walk(dir, name string, out *[]entry) error {
	f, err := t.root.Open(nonEmpty(dir))
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	des, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	slices.SortFunc(des, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, de := range des {
		rel := path.Join(dir, de.Name())
		sub := path.Join(name, de.Name())
		ign, descend, err := t.ignore.ignored(rel, de.IsDir())
		if err != nil {
			return err
		}
		if ign && !descend {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			return fmt.Errorf("reading %s: %w", rel, err)
		}
		if !ign {
			e, err := t.entry(rel, sub, fi)
			if err != nil {
				return err
			}
			*out = append(*out, e)
		}
		if fi.IsDir() {
			if err := t.walk(rel, sub, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// glob lists the tree's paths matching pattern, component by component.
func (t tree) glob(pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("bad pattern %q: %w", pattern, err)
	}
	parts := strings.Split(pattern, "/")
	cur := []string{"."}
	for _, part := range parts {
		var next []string
		for _, dir := range cur {
			if !hasGlob(part) {
				next = append(next, path.Join(dir, part))
				continue
			}
			f, err := t.root.Open(dir)
			if err != nil {
				continue
			}
			names, _ := f.Readdirnames(-1)
			f.Close()
			slices.Sort(names)
			for _, n := range names {
				if ok, _ := path.Match(part, n); ok {
					rel := path.Join(dir, n)
					if ign, _, _ := t.ignore.ignored(rel, false); !ign {
						next = append(next, rel)
					}
				}
			}
		}
		cur = next
	}
	var out []string
	for _, c := range cur {
		if _, err := t.root.Lstat(c); err == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

func nonEmpty(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

// contentDigest hashes what entries copy — names, types, permission
// bits, link targets and file content, never times — for the cache key.
func (t tree) contentDigest(entries []entry) (string, error) {
	h := sha256.New()
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%s\x00%o\x00%s\x00", e.name, e.src, uint32(e.info.Mode()), e.link)
		if e.info.Mode().IsRegular() {
			f, err := t.root.Open(e.src)
			if err != nil {
				return "", fmt.Errorf("reading %s: %w", e.src, err)
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return "", fmt.Errorf("reading %s: %w", e.src, err)
			}
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyOptions are COPY's --chown and --chmod, resolved.
type copyOptions struct {
	uid, gid int
	mode     *fs.FileMode // nil: keep the source's permissions
}

// writeTar writes entries as a tar stream named relative to the
// destination directory, owned as o says.
func (t tree) writeTar(w io.Writer, entries []entry, o copyOptions) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{} // (dev, inode) → first name: hard links stay links
	for _, e := range entries {
		hdr, err := tar.FileInfoHeader(e.info, e.link)
		if err != nil {
			return fmt.Errorf("archiving %s: %w", e.src, err)
		}
		hdr.Name = e.name
		if st, ok := e.info.Sys().(*syscall.Stat_t); ok && hdr.Typeflag == tar.TypeReg && st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				links[key] = hdr.Name
			}
		}
		if e.info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = o.uid, o.gid, "", ""
		if o.mode != nil && hdr.Typeflag != tar.TypeSymlink {
			hdr.Mode = int64(*o.mode)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("archiving %s: %w", e.src, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			f, err := t.root.Open(e.src)
			if err != nil {
				return fmt.Errorf("archiving %s: %w", e.src, err)
			}
			_, err = io.CopyN(tw, f, hdr.Size)
			f.Close()
			if err != nil {
				return fmt.Errorf("archiving %s: %w", e.src, err)
			}
		}
	}
	return tw.Close()
}
