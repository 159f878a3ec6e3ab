package volume

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// maxSymlinks bounds symlink resolution of a copy-up path, as the kernel's
// MAXSYMLINKS does.
const maxSymlinks = 40

// mdir is one directory of the merged view of image layers: its copy in
// each layer that shows through, topmost first. Lower copies stop at the
// first opaque one and at a layer where the name is not a directory.
type mdir struct {
	files []*os.File
}

// mentry is a visible entry of an mdir; layer indexes the mdir's files
// holding it.
type mentry struct {
	name  string
	st    unix.Stat_t
	layer int
}

func (d *mdir) close() {
	for _, f := range d.files {
		f.Close()
	}
	d.files = nil
}

func (d *mdir) fd(i int) int { return int(d.files[i].Fd()) }

// rootDir opens the merged root of layers, given bottom first.
func rootDir(layers []string) (*mdir, error) {
	if len(layers) == 0 {
		return nil, errors.New("no image layers")
	}
	d := &mdir{}
	for i := len(layers) - 1; i >= 0; i-- {
		fd, err := unix.Open(layers[i], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			d.close()
			return nil, fmt.Errorf("opening layer %s: %w", layers[i], err)
		}
		d.files = append(d.files, os.NewFile(uintptr(fd), layers[i]))
		if isOpaque(fd) {
			break
		}
	}
	return d, nil
}

// stat returns the visible entry name of d; ok is false when no layer has
// it or the topmost one whites it out.
func (d *mdir) stat(name string) (e mentry, ok bool, err error) {
	for i := range d.files {
		var st unix.Stat_t
		err := unix.Fstatat(d.fd(i), name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return mentry{}, false, fmt.Errorf("stat %s: %w", name, err)
		}
		if isWhiteout(&st) {
			return mentry{}, false, nil
		}
		return mentry{name: name, st: st, layer: i}, true, nil
	}
	return mentry{}, false, nil
}

// list returns the visible entries of d, sorted by name. It reads each
// layer's directory once.
func (d *mdir) list() ([]mentry, error) {
	seen := map[string]bool{}
	var out []mentry
	for i, f := range d.files {
		names, err := f.Readdirnames(-1)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.Name(), err)
		}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true // a whiteout hides the name in lower layers too
			var st unix.Stat_t
			if err := unix.Fstatat(d.fd(i), n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return nil, fmt.Errorf("stat %s: %w", n, err)
			}
			if !isWhiteout(&st) {
				out = append(out, mentry{name: n, st: st, layer: i})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// child opens the merged directory of entry e of d, a directory. Nothing
// is followed: a symlink, file or whiteout in a lower layer ends the
// stack, as an opaque directory does.
func (d *mdir) child(e mentry) (*mdir, error) {
	c := &mdir{}
	for i := e.layer; i < len(d.files); i++ {
		fd, err := unix.Openat(d.fd(i), e.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if i > e.layer && errors.Is(err, unix.ENOENT) {
			continue
		}
		if i > e.layer && (errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP)) {
			break
		}
		if err != nil {
			c.close()
			return nil, fmt.Errorf("opening %s: %w", e.name, err)
		}
		c.files = append(c.files, os.NewFile(uintptr(fd), e.name))
		if isOpaque(fd) {
			break
		}
	}
	return c, nil
}

// walk opens the merged directory at names, components already resolved
// to directories; it returns nil if one is not a directory any more.
func walk(layers []string, names []string) (*mdir, error) {
	d, err := rootDir(layers)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		e, ok, err := d.stat(n)
		if err != nil || !ok || e.st.Mode&unix.S_IFMT != unix.S_IFDIR {
			d.close()
			return nil, err
		}
		c, err := d.child(e)
		d.close()
		if err != nil {
			return nil, err
		}
		d = c
	}
	return d, nil
}

// resolveDir opens the merged directory at path, an absolute path inside
// the image, following the image's symlinks with the image root as "/"
// (as the container's mount is resolved). It returns nil when the path is
// missing or is not a directory.
func resolveDir(layers []string, path string) (*mdir, error) {
	var done []string
	rest := strings.Split(path, "/")
	links := 0
	d, err := walk(layers, done)
	for err == nil && d != nil && len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			d.close()
			d, err = walk(layers, done)
			continue
		}
		var (
			e  mentry
			ok bool
		)
		e, ok, err = d.stat(c)
		if err != nil {
			break
		}
		if !ok {
			d.close()
			return nil, nil
		}
		switch e.st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			var next *mdir
			next, err = d.child(e)
			d.close()
			d, done = next, append(done, c)
		case unix.S_IFLNK:
			if links++; links > maxSymlinks {
				err = fmt.Errorf("resolving %s: %w", path, unix.ELOOP)
				break
			}
			var target string
			target, err = readlinkat(d.fd(e.layer), c)
			if err != nil {
				break
			}
			if strings.HasPrefix(target, "/") {
				done = nil
			}
			rest = append(strings.Split(target, "/"), rest...)
			d.close()
			d, err = walk(layers, done)
		default:
			d.close()
			return nil, nil
		}
	}
	if err != nil || d == nil || len(rest) > 0 {
		if d != nil {
			d.close()
		}
		return nil, err
	}
	return d, nil
}

// isWhiteout reports whether st is an overlay whiteout: a 0:0 character
// device.
func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// isOpaque reports whether directory fd hides lower layers' content.
func isOpaque(fd int) bool {
	buf := make([]byte, 2)
	n, err := unix.Fgetxattr(fd, "trusted.overlay.opaque", buf)
	return err == nil && string(buf[:n]) == "y"
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", fmt.Errorf("reading link %s: %w", name, err)
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
