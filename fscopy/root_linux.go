package fscopy

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Root is a directory tree every path is resolved inside, as if it were
// "/": "..", absolute symlinks and magic links never leave it.
type Root struct {
	fd   int
	name string // for messages
}

// OpenRoot opens dir as a Root. dir itself is resolved normally (it is the
// caller's trusted path, such as /proc/PID/root).
func OpenRoot(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	return &Root{fd: fd, name: dir}, nil
}

// Close releases the root.
func (r *Root) Close() error { return unix.Close(r.fd) }

// rel is p relative to the root, for openat2.
func rel(p string) string {
	if c := strings.TrimPrefix(path.Clean("/"+p), "/"); c != "" {
		return c
	}
	return "."
}

// open resolves p inside the root, following every symlink inside it.
func (r *Root) open(p string, flags int) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for range 16 {
		fd, err := unix.Openat2(r.fd, rel(p), &how)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue // a rename raced the lookup: the kernel asks to retry
		}
		if err != nil {
			return -1, &pathError{op: "opening", path: p, err: err}
		}
		return fd, nil
	}
	return -1, &pathError{op: "opening", path: p, err: unix.EAGAIN}
}

// dir opens directory p inside the root as an O_PATH handle.
func (r *Root) dir(p string) (int, error) {
	return r.open(p, unix.O_PATH|unix.O_DIRECTORY)
}

// pathError is a failed operation on a path inside a root; it unwraps to
// the errno and to the package's sentinels.
type pathError struct {
	op, path string
	err      error
}

func (e *pathError) Error() string { return fmt.Sprintf("%s %s: %v", e.op, e.path, e.err) }

func (e *pathError) Unwrap() []error {
	errs := []error{e.err}
	switch {
	case errors.Is(e.err, unix.ENOENT):
		errs = append(errs, ErrNotFound)
	case errors.Is(e.err, unix.ENOTDIR):
		errs = append(errs, ErrNotDir)
	}
	return errs
}

// lstat is fstatat of p without following its last element.
func (r *Root) lstat(p string) (unix.Stat_t, error) {
	var st unix.Stat_t
	dir, base := Split(p)
	dfd, err := r.dir(dir)
	if err != nil {
		return st, err
	}
	defer unix.Close(dfd)
	if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, &pathError{op: "lstat", path: p, err: err}
	}
	return st, nil
}

// info turns a stat result into the rules' Info; a missing path is no error.
func info(st unix.Stat_t, err error) (Info, error) {
	if errors.Is(err, unix.ENOENT) {
		return Info{}, nil
	}
	if err != nil {
		return Info{}, err
	}
	t := st.Mode & unix.S_IFMT
	return Info{Exists: true, IsDir: t == unix.S_IFDIR, IsLink: t == unix.S_IFLNK, Regular: t == unix.S_IFREG}, nil
}

// Lstat implements FS.
func (r *Root) Lstat(p string) (Info, error) { return info(r.lstat(p)) }

// Stat implements FS.
func (r *Root) Stat(p string) (Info, error) {
	var st unix.Stat_t
	fd, err := r.open(p, unix.O_PATH)
	if err == nil {
		defer unix.Close(fd)
		if err = unix.Fstat(fd, &st); err != nil {
			err = &pathError{op: "stat", path: p, err: err}
		}
	}
	return info(st, err)
}

// Readlink implements FS.
func (r *Root) Readlink(p string) (string, error) {
	dir, base := Split(p)
	dfd, err := r.dir(dir)
	if err != nil {
		return "", err
	}
	defer unix.Close(dfd)
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dfd, base, buf)
	if err != nil {
		return "", &pathError{op: "readlink", path: p, err: err}
	}
	return string(buf[:n]), nil
}

// Sub opens directory p inside the root as a root of its own: nothing
// resolved in it leaves p.
func (r *Root) Sub(p string) (*Root, error) {
	fd, err := r.dir(p)
	if err != nil {
		return nil, err
	}
	return &Root{fd: fd, name: path.Join(r.name, rel(p))}, nil
}
