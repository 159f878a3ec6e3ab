package volume

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLinkFds bounds the files kept open to recreate hard links; past it,
// further links become copies.
const maxLinkFds = 1024

// CopyUp fills dst, a new volume's data directory, with the image content
// at path, as Docker does when a container first mounts an empty volume.
// layers are the image's snapshot directories, bottom first, each holding
// one layer with overlay whiteouts (0:0 character devices) and opaque
// directories (trusted.overlay.opaque=y).
//
// CopyUp computes the merged view itself instead of mounting an overlay:
// it needs no mount, so nothing can leak or show on the host if the process
// dies, it works with any number of layers, and it reads every entry
// relative to directory descriptors without following a symlink.
//
// Nothing is copied when dst is not empty, when path is missing in the
// image or is not a directory there. Owners, modes (setuid, sticky),
// symlinks (as links), hard links, device nodes, times and xattrs (but
// overlay's own) are kept; dst itself takes the owner and mode of the
// image's directory. When dst's parent is on the same file system, the
// copy is built in a sibling directory and renamed over the empty dst, so
// a crash never leaves a half-filled volume; otherwise (dst is a mount
// point) it is copied in place. The data is synced before CopyUp returns.
func CopyUp(layers []string, path, dst string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("copy-up: image path %q is not absolute", path)
	}
	if !filepath.IsAbs(dst) {
		return fmt.Errorf("copy-up: volume path %q is not absolute", dst)
	}
	if err := copyUp(layers, path, filepath.Clean(dst)); err != nil {
		return fmt.Errorf("copying image content at %s into %s: %w", path, dst, err)
	}
	return nil
}

func copyUp(layers []string, path, dst string) error {
	src, err := resolveDir(layers, path)
	if err != nil || src == nil {
		return err
	}
	defer src.close()

	parentPath, base := filepath.Dir(dst), filepath.Base(dst)
	pfd, err := unix.Open(parentPath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", parentPath, err)
	}
	defer unix.Close(pfd)
	// Two containers may mount the same new volume at once: one copies.
	if err := unix.Flock(pfd, unix.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", parentPath, err)
	}
	dfd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening volume: %w", err)
	}
	d := os.NewFile(uintptr(dfd), dst)
	defer d.Close()
	if names, err := d.Readdirnames(1); len(names) > 0 {
		return nil
	} else if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading volume: %w", err)
	}

	c := &copier{links: map[[2]uint64]int{}}
	defer c.close()
	var pst, dst0 unix.Stat_t
	if err := unix.Fstat(pfd, &pst); err != nil {
		return err
	}
	if err := unix.Fstat(dfd, &dst0); err != nil {
		return err
	}
	if pst.Dev != dst0.Dev {
		return c.into(src, pfd, base, dfd)
	}

	stage := ".berth-copyup." + base
	stagePath := filepath.Join(parentPath, stage)
	if err := os.RemoveAll(stagePath); err != nil { // left by a crash
		return fmt.Errorf("removing stale %s: %w", stagePath, err)
	}
	if err := unix.Mkdirat(pfd, stage, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", stagePath, err)
	}
	err = c.stageAndSwap(src, pfd, stage, base)
	if err != nil {
		os.RemoveAll(stagePath)
	}
	return err
}

// stageAndSwap copies src into the new directory stage of pfd, then
// renames it over the empty directory base.
func (c *copier) stageAndSwap(src *mdir, pfd int, stage, base string) error {
	sfd, err := unix.Openat(pfd, stage, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", stage, err)
	}
	defer unix.Close(sfd)
	if err := c.into(src, pfd, stage, sfd); err != nil {
		return err
	}
	if err := unix.Renameat(pfd, stage, pfd, base); err != nil {
		return fmt.Errorf("moving the copy into place: %w", err)
	}
	if err := unix.Fsync(pfd); err != nil {
		return fmt.Errorf("syncing volume directory: %w", err)
	}
	return nil
}

// copier copies merged directories into a destination tree it creates
// itself, through directory descriptors only.
type copier struct {
	links map[[2]uint64]int // source (dev, inode) → O_PATH fd of its copy
}

func (c *copier) close() {
	for _, fd := range c.links {
		unix.Close(fd)
	}
}

// into copies src's content into directory dfd, named name in pfd, gives
// dfd the metadata of src, and syncs the file system.
func (c *copier) into(src *mdir, pfd int, name string, dfd int) error {
	if err := c.dir(src, dfd, ""); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(src.fd(0), &st); err != nil {
		return err
	}
	if err := fdAttrs(src.fd(0), dfd, &st); err != nil {
		return fmt.Errorf("setting owner and mode of the volume: %w", err)
	}
	if err := setTimes(pfd, name, &st); err != nil {
		return err
	}
	if err := unix.Syncfs(dfd); err != nil {
		return fmt.Errorf("syncing copied data: %w", err)
	}
	return nil
}

// dir copies the visible entries of src into directory dfd; rel is src's
// path below the copy root, for messages.
func (c *copier) dir(src *mdir, dfd int, rel string) error {
	ents, err := src.list()
	if err != nil {
		return fmt.Errorf("listing /%s: %w", rel, err)
	}
	for _, e := range ents {
		if err := c.entry(src, e, dfd, rel+"/"+e.name); err != nil {
			return err
		}
	}
	return nil
}

// entry copies one visible entry of src into dfd; rel is its path below
// the copy root. Errors name the entry that failed.
func (c *copier) entry(src *mdir, e mentry, dfd int, rel string) error {
	if e.st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return c.subdir(src, e, dfd, rel)
	}
	if err := c.leaf(src.fd(e.layer), e, dfd); err != nil {
		return fmt.Errorf("copying %s: %w", rel, err)
	}
	return nil
}

// leaf copies entry e, not a directory, from directory pfd into dfd.
func (c *copier) leaf(pfd int, e mentry, dfd int) error {
	switch e.st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return c.file(pfd, e, dfd)
	case unix.S_IFLNK:
		target, err := readlinkat(pfd, e.name)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(target, dfd, e.name); err != nil {
			return err
		}
		return pathAttrs(dfd, e.name, &e.st, false)
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if err := unix.Mknodat(dfd, e.name, e.st.Mode&unix.S_IFMT|0o600, int(e.st.Rdev)); err != nil {
			return err
		}
		return pathAttrs(dfd, e.name, &e.st, true)
	}
	return nil // a socket means nothing without its process
}

// subdir copies directory entry e of src into dfd, content first, so
// that its mode and times are set last.
func (c *copier) subdir(src *mdir, e mentry, dfd int, rel string) error {
	child, cfd, err := openPair(src, e, dfd)
	if err != nil {
		return fmt.Errorf("copying %s: %w", rel, err)
	}
	defer child.close()
	defer unix.Close(cfd)
	if err := c.dir(child, cfd, rel); err != nil {
		return err
	}
	if err := fdAttrs(child.fd(0), cfd, &e.st); err != nil {
		return fmt.Errorf("copying %s: %w", rel, err)
	}
	if err := setTimes(dfd, e.name, &e.st); err != nil {
		return fmt.Errorf("copying %s: %w", rel, err)
	}
	return nil
}

// openPair opens the merged directory e of src and creates its copy in
// dfd, private until its mode is set.
func openPair(src *mdir, e mentry, dfd int) (*mdir, int, error) {
	child, err := src.child(e)
	if err != nil {
		return nil, -1, err
	}
	if err := unix.Mkdirat(dfd, e.name, 0o700); err != nil {
		child.close()
		return nil, -1, err
	}
	cfd, err := unix.Openat(dfd, e.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		child.close()
		return nil, -1, err
	}
	return child, cfd, nil
}

// file copies regular file e from directory pfd into dfd, or links it to
// an earlier copy of the same inode.
func (c *copier) file(pfd int, e mentry, dfd int) error {
	key := [2]uint64{e.st.Dev, e.st.Ino}
	if e.st.Nlink > 1 {
		if lfd, ok := c.links[key]; ok && linkFd(lfd, dfd, e.name) == nil {
			return nil
		}
	}
	sfd, err := unix.Openat(pfd, e.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	in := os.NewFile(uintptr(sfd), e.name)
	defer in.Close()
	ofd, err := unix.Openat(dfd, e.name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	out := os.NewFile(uintptr(ofd), e.name)
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	if err := fdAttrs(sfd, ofd, &e.st); err != nil {
		return err
	}
	if err := setTimes(dfd, e.name, &e.st); err != nil {
		return err
	}
	if e.st.Nlink > 1 && len(c.links) < maxLinkFds {
		if lfd, err := unix.Openat(dfd, e.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err == nil {
			c.links[key] = lfd
		}
	}
	return nil
}

// linkFd makes name in dfd a hard link to the file open as lfd.
func linkFd(lfd, dfd int, name string) error {
	if err := unix.Linkat(lfd, "", dfd, name, unix.AT_EMPTY_PATH); err == nil {
		return nil
	}
	return unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", lfd), dfd, name, unix.AT_SYMLINK_FOLLOW)
}

// fdAttrs gives the open file dfd the owner, mode and xattrs of st and of
// the open source sfd. The mode comes after the owner: chown clears setuid.
func fdAttrs(sfd, dfd int, st *unix.Stat_t) error {
	if err := unix.Fchown(dfd, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if err := unix.Fchmod(dfd, st.Mode&0o7777); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return copyXattrs(sfd, dfd)
}

// pathAttrs gives name in dfd, a symlink or a node just made, the owner,
// times and (unless a symlink) mode of st, never following name.
func pathAttrs(dfd int, name string, st *unix.Stat_t, chmod bool) error {
	if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if chmod {
		if err := unix.Fchmodat(dfd, name, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	return setTimes(dfd, name, st)
}

func setTimes(dfd int, name string, st *unix.Stat_t) error {
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(dfd, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times of %s: %w", name, err)
	}
	return nil
}

// copyXattrs copies the extended attributes of sfd to dfd, but overlay's
// own. A destination file system without xattrs is not an error.
func copyXattrs(sfd, dfd int) error {
	names, err := listXattrs(sfd)
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n, "trusted.overlay.") || strings.HasPrefix(n, "user.overlay.") {
			continue
		}
		val, err := getXattr(sfd, n)
		if errors.Is(err, unix.ENODATA) {
			continue
		}
		if err != nil {
			return err
		}
		if err := unix.Fsetxattr(dfd, n, val, 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("setting xattr %s: %w", n, err)
		}
	}
	return nil
}

func listXattrs(fd int) ([]string, error) {
	for {
		size, err := unix.Flistxattr(fd, nil)
		if errors.Is(err, unix.ENOTSUP) || size == 0 {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listing xattrs: %w", err)
		}
		buf := make([]byte, size)
		n, err := unix.Flistxattr(fd, buf)
		if errors.Is(err, unix.ERANGE) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing xattrs: %w", err)
		}
		var out []string
		for _, s := range strings.Split(string(buf[:n]), "\x00") {
			if s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
}

func getXattr(fd int, name string) ([]byte, error) {
	for {
		size, err := unix.Fgetxattr(fd, name, nil)
		if err != nil {
			return nil, fmt.Errorf("reading xattr %s: %w", name, err)
		}
		buf := make([]byte, size)
		n, err := unix.Fgetxattr(fd, name, buf)
		if errors.Is(err, unix.ERANGE) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading xattr %s: %w", name, err)
		}
		return buf[:n], nil
	}
}
