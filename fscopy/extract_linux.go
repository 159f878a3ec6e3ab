package fscopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// Owner says who owns extracted files: the archive's uid/gid with Keep
// (docker cp -a), else UID:GID.
type Owner struct {
	Keep     bool
	UID, GID int
}

// extractor unpacks one archive into a Root: every name is resolved inside
// it, so nothing lands outside, whatever the archive's names and links.
type extractor struct {
	root  *Root
	owner Owner
	dirs  []dirTime // directory times, set last: filling a directory changes its mtime
}

type dirTime struct {
	path  string
	mtime unix.Timespec
}

// extract unpacks the tar stream r into root. As docker cp does, an
// existing directory is never replaced by a non-directory nor the reverse;
// other existing entries are replaced.
func extract(r io.Reader, root *Root, owner Owner) error {
	x := &extractor{root: root, owner: owner}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return fmt.Errorf("extracting %q: %w", hdr.Name, err)
		}
	}
	for i := len(x.dirs) - 1; i >= 0; i-- { // deepest last-made first
		if err := x.times(x.dirs[i].path, x.dirs[i].mtime); err != nil {
			return err
		}
	}
	return nil
}

// entry creates one archive entry.
func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return nil // pax headers are read by archive/tar; other kinds have no file
	}
	p := path.Clean("/" + hdr.Name)
	if p == "/" {
		return nil // the extraction directory itself ("." of SRC/.)
	}
	dir, base := path.Split(p)
	dfd, err := x.mkdirAll(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	isDir := hdr.Typeflag == tar.TypeDir
	var st unix.Stat_t
	switch err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case errors.Is(err, unix.ENOENT):
	case err != nil:
		return err
	case st.Mode&unix.S_IFMT == unix.S_IFDIR && !isDir:
		return fmt.Errorf("cannot overwrite directory %q with non-directory", p)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR && isDir:
		return fmt.Errorf("cannot overwrite non-directory %q with directory", p)
	case !isDir:
		if err := unix.Unlinkat(dfd, base, 0); err != nil {
			return fmt.Errorf("replacing %s: %w", p, err)
		}
	}
	uid, gid := x.owner.UID, x.owner.GID
	if x.owner.Keep {
		uid, gid = hdr.Uid, hdr.Gid
	}
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := unix.Mkdirat(dfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
		if err := x.fixFd(dfd, base, unix.O_RDONLY|unix.O_DIRECTORY, uid, gid, mode); err != nil {
			return err
		}
		x.dirs = append(x.dirs, dirTime{p, unix.NsecToTimespec(hdr.ModTime.UnixNano())})
		return nil
	case tar.TypeReg:
		if err := x.file(dfd, base, r, uid, gid, mode); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, dfd, base); err != nil {
			return err
		}
		if err := unix.Fchownat(dfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	case tar.TypeLink:
		return x.hardlink(dfd, base, hdr.Linkname)
	default:
		if err := x.special(dfd, base, hdr, uid, gid, mode); err != nil {
			return err
		}
	}
	return timesAt(dfd, base, p, unix.NsecToTimespec(hdr.ModTime.UnixNano()))
}

// mkdirAll opens directory p inside the root, making what is missing of
// it (0755, as docker does).
func (x *extractor) mkdirAll(p string) (int, error) {
	fd, err := x.root.dir(p)
	if !errors.Is(err, unix.ENOENT) || path.Clean(p) == "/" {
		return fd, err
	}
	parent, base := path.Split(path.Clean(p))
	pfd, err := x.mkdirAll(parent)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	if err := unix.Mkdirat(pfd, base, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("creating %s: %w", p, err)
	}
	return x.root.dir(p)
}

// file writes a regular file's content, created new (never through a link).
func (x *extractor) file(dfd int, base string, r io.Reader, uid, gid int, mode uint32) error {
	fd, err := unix.Openat(dfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		return err
	}
	return fixOwner(fd, uid, gid, mode)
}

// fixFd opens base (never through a symlink) and sets its owner and mode.
func (x *extractor) fixFd(dfd int, base string, flags int, uid, gid int, mode uint32) error {
	fd, err := unix.Openat(dfd, base, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return fixOwner(fd, uid, gid, mode)
}

// fixOwner sets the owner, then the mode (chown clears set-id bits).
func fixOwner(fd, uid, gid int, mode uint32) error {
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return err
	}
	return unix.Fchmod(fd, mode)
}

// special makes a device node or a FIFO.
func (x *extractor) special(dfd int, base string, hdr *tar.Header, uid, gid int, mode uint32) error {
	kind := uint32(unix.S_IFIFO)
	switch hdr.Typeflag {
	case tar.TypeChar:
		kind = unix.S_IFCHR
	case tar.TypeBlock:
		kind = unix.S_IFBLK
	}
	dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	if err := unix.Mknodat(dfd, base, kind|0o600, dev); err != nil {
		return err
	}
	// An O_PATH handle: opening a device or a FIFO for real has effects.
	fd, err := unix.Openat(dfd, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
		return err
	}
	return unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), mode)
}

// hardlink links base to the archive's earlier entry target, both inside the root.
func (x *extractor) hardlink(dfd int, base, target string) error {
	tdir, tbase := path.Split(path.Clean("/" + target))
	tfd, err := x.root.dir(tdir)
	if err != nil {
		return err
	}
	defer unix.Close(tfd)
	return unix.Linkat(tfd, tbase, dfd, base, 0)
}

// times sets p's modification (and access) time without following a link.
func (x *extractor) times(p string, mtime unix.Timespec) error {
	dir, base := path.Split(p)
	dfd, err := x.root.dir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return timesAt(dfd, base, p, mtime)
}

// timesAt sets the times of entry base of directory dfd (p, for messages).
func timesAt(dfd int, base, p string, mtime unix.Timespec) error {
	ts := []unix.Timespec{mtime, mtime}
	if err := unix.UtimesNanoAt(dfd, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &pathError{op: "setting times of", path: p, err: err}
	}
	return nil
}
