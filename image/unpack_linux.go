package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// extractLayer unpacks the layer tar r (gzip, zstd or plain) into dst, an
// existing empty directory, and returns the diff ID ("sha256:…") of the
// uncompressed stream. Every parent directory is resolved by the kernel
// with openat2(RESOLVE_BENEATH), so no entry is ever written outside dst:
// absolute or escaping names, writes through symlinks that leave dst, and
// hard links to targets outside dst fail with ErrUnsafeLayer. OCI whiteouts
// become overlayfs whiteouts. A decompressed stream longer than limit
// bytes (0: no limit) stops with ErrLayerTooLarge, described by what.
// With writeback, the writeback of each file starts as soon as it is
// written (for a caller that syncs the filesystem afterwards).
// The caller removes dst on error.
func extractLayer(ctx context.Context, r io.Reader, dst string, limit int64, what string, writeback bool) (string, error) {
	dr, _, err := decompress(r)
	if err != nil {
		return "", err
	}
	defer dr.Close()
	h := sha256.New()
	var plain io.Reader = dr
	if limit > 0 {
		plain = &budgetReader{r: dr, left: limit, what: what}
	}
	tee := io.TeeReader(plain, h)
	x, err := newExtractor(dst)
	if err != nil {
		return "", err
	}
	x.writeback = writeback
	defer x.close()
	tr := tar.NewReader(tee)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("reading layer tar: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return "", fmt.Errorf("extracting %q: %w", hdr.Name, err)
		}
	}
	if err := x.finishDirs(); err != nil {
		return "", err
	}
	// The diff ID covers the whole stream, end-of-archive padding included.
	if _, err := io.CopyBuffer(io.Discard, tee, x.buf); err != nil {
		return "", fmt.Errorf("reading layer tar: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// extractor holds the state of one extraction.
type extractor struct {
	root      int    // O_PATH fd of the destination
	rootPath  string // for messages and the root's own times
	isRoot    bool   // may chown and mknod
	writeback bool   // start each file's writeback once written
	buf       []byte
	dirs      []dirTime // directory times, set last

	// A one-entry cache of the last parent directory: tar entries come
	// grouped by directory. Dropped whenever an entry replaced something.
	cachePath string
	cacheFd   int
	stale     bool
}

type dirTime struct {
	name         string
	atime, mtime time.Time
}

func newExtractor(dst string) (*extractor, error) {
	fd, err := unix.Open(dst, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening extraction root %s: %w", dst, err)
	}
	return &extractor{root: fd, rootPath: dst, isRoot: os.Geteuid() == 0, buf: make([]byte, 1<<20), cacheFd: -1}, nil
}

func (x *extractor) close() {
	x.dropCache()
	unix.Close(x.root)
}

func (x *extractor) dropCache() {
	if x.cacheFd >= 0 {
		unix.Close(x.cacheFd)
	}
	x.cachePath, x.cacheFd, x.stale = "", -1, false
}

// entry extracts one tar entry.
func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	defer func() {
		if x.stale {
			x.dropCache()
		}
	}()
	name, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	if isSparse(hdr) {
		return fmt.Errorf("sparse file of %d bytes refused: %w", hdr.Size, ErrUnsafeLayer)
	}
	kind, target := classifyWhiteout(name)
	switch kind {
	case whiteoutMeta:
		return nil
	case whiteoutOpaqueDir:
		dir, _ := splitParent(name)
		return x.opaque(dir)
	case whiteoutFile:
		return x.whiteout(target, hdr)
	}
	if name == "." {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("root entry is not a directory: %w", ErrUnsafeLayer)
		}
		return x.rootDir(hdr)
	}
	dir, base := splitParent(name)
	pfd, err := x.dirFd(dir)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.mkdir(pfd, name, base, hdr)
	case tar.TypeReg, tar.TypeRegA:
		return x.file(pfd, base, hdr, r)
	case tar.TypeSymlink:
		if err := x.remove(pfd, base); err != nil {
			return err
		}
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return fmt.Errorf("creating symlink: %w", err)
		}
		return x.pathAttrs(pfd, base, hdr, false)
	case tar.TypeLink:
		return x.hardlink(pfd, base, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return x.mknod(pfd, base, hdr)
	default:
		return nil // global headers, GNU volume labels and the like carry no file
	}
}

// openBeneath opens the directory rel under the root; the kernel refuses
// any resolution that would leave the root (absolute or escaping symlinks,
// "..") with EXDEV.
func (x *extractor) openBeneath(rel string) (int, error) {
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(x.root, rel, how)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ELOOP):
			return -1, fmt.Errorf("%q resolves outside the layer root: %w", rel, ErrUnsafeLayer)
		default:
			return -1, fmt.Errorf("opening directory %q: %w", rel, err)
		}
	}
}

// dirFd returns an fd of directory rel, creating missing directories with
// mode 0755. The fd belongs to the extractor.
func (x *extractor) dirFd(rel string) (int, error) {
	if rel == "." {
		return x.root, nil
	}
	if rel == x.cachePath {
		return x.cacheFd, nil
	}
	fd, err := x.openBeneath(rel)
	if errors.Is(err, unix.ENOENT) {
		fd, err = x.mkdirAll(rel)
	}
	if err != nil {
		return -1, err
	}
	x.dropCache()
	x.cachePath, x.cacheFd = rel, fd
	return fd, nil
}

// mkdirAll creates rel component by component, each resolved beneath the
// root, and returns an fd of it.
func (x *extractor) mkdirAll(rel string) (int, error) {
	parts := strings.Split(rel, "/")
	parent := x.root
	for i, p := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		fd, err := x.openBeneath(prefix)
		if errors.Is(err, unix.ENOENT) {
			if err := unix.Mkdirat(parent, p, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
				closeUnlessRoot(x, parent)
				return -1, fmt.Errorf("creating directory %q: %w", prefix, err)
			}
			fd, err = x.openBeneath(prefix)
		}
		closeUnlessRoot(x, parent)
		if err != nil {
			return -1, err
		}
		parent = fd
	}
	return parent, nil
}

func closeUnlessRoot(x *extractor, fd int) {
	if fd != x.root {
		unix.Close(fd)
	}
}

// remove deletes base in pfd if present (an empty directory too), so that
// the entry replacing it is created fresh and never written through.
func (x *extractor) remove(pfd int, base string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("inspecting existing %q: %w", base, err)
	}
	flags := 0
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		flags = unix.AT_REMOVEDIR
	}
	if err := unix.Unlinkat(pfd, base, flags); err != nil {
		return fmt.Errorf("replacing existing %q: %w", base, err)
	}
	x.stale = true
	return nil
}

// mkdir creates (or keeps) a directory and applies the header's attributes;
// its times are set once all entries are in.
func (x *extractor) mkdir(pfd int, name, base string, hdr *tar.Header) error {
	err := unix.Mkdirat(pfd, base, 0o700)
	if errors.Is(err, unix.EEXIST) {
		var st unix.Stat_t
		if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("inspecting existing %q: %w", base, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := x.remove(pfd, base); err != nil {
				return err
			}
			err = unix.Mkdirat(pfd, base, 0o700)
		} else {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("creating directory: %w", err)
	}
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening directory: %w", err)
	}
	defer unix.Close(fd)
	x.dirs = append(x.dirs, dirTime{name: name, atime: hdr.AccessTime, mtime: hdr.ModTime})
	return x.fdAttrs(fd, hdr)
}

// rootDir applies a "./" entry to the destination itself.
func (x *extractor) rootDir(hdr *tar.Header) error {
	fd, err := unix.Openat(x.root, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening layer root: %w", err)
	}
	defer unix.Close(fd)
	x.dirs = append(x.dirs, dirTime{name: ".", atime: hdr.AccessTime, mtime: hdr.ModTime})
	return x.fdAttrs(fd, hdr)
}

// file writes a regular file; O_EXCL|O_NOFOLLOW after removing whatever
// was there means it is never written through a symlink or an old link.
func (x *extractor) file(pfd int, base string, hdr *tar.Header, r io.Reader) error {
	if err := x.remove(pfd, base); err != nil {
		return err
	}
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("creating file: %w", err)
	}
	f := os.NewFile(uintptr(fd), base)
	defer f.Close()
	// Whole buffers (1 MiB) per write, however small the reads from the
	// decompressor: fewer system calls.
	for {
		n, rerr := fill(r, x.buf)
		if n > 0 {
			if _, err := f.Write(x.buf[:n]); err != nil {
				return fmt.Errorf("writing file: %w", err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("writing file: %w", rerr)
		}
	}
	if err := x.fdAttrs(fd, hdr); err != nil {
		return err
	}
	if x.writeback && hdr.Size > 0 {
		startWriteback(fd)
	}
	return setTimes(pfd, base, hdr.AccessTime, hdr.ModTime)
}

// hardlink links base to an entry already extracted in this layer.
func (x *extractor) hardlink(pfd int, base string, hdr *tar.Header) error {
	target, err := cleanEntryName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hard link target: %w", err)
	}
	if target == "." {
		return fmt.Errorf("hard link to the layer root: %w", ErrUnsafeLayer)
	}
	tdir, tbase := splitParent(target)
	tfd := x.root
	if tdir != "." {
		if tfd, err = x.openBeneath(tdir); err != nil {
			return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
		}
		defer unix.Close(tfd)
	}
	if err := x.remove(pfd, base); err != nil {
		return err
	}
	// Flags 0: a symlink target is linked itself, never followed.
	if err := unix.Linkat(tfd, tbase, pfd, base, 0); err != nil {
		return fmt.Errorf("hard linking to %q: %w", hdr.Linkname, err)
	}
	return nil
}

// mknod creates a device node (only as root, skipped otherwise, as in a
// user namespace) or a FIFO.
func (x *extractor) mknod(pfd int, base string, hdr *tar.Header) error {
	mode := uint32(unix.S_IFIFO)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode = unix.S_IFCHR
	case tar.TypeBlock:
		mode = unix.S_IFBLK
	}
	if mode != unix.S_IFIFO && !x.isRoot {
		return nil
	}
	if err := x.remove(pfd, base); err != nil {
		return err
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	if err := unix.Mknodat(pfd, base, mode|0o600, int(dev)); err != nil {
		return fmt.Errorf("creating device node: %w", err)
	}
	return x.pathAttrs(pfd, base, hdr, true)
}

// whiteout turns ".wh.NAME" into the overlayfs whiteout for NAME: a 0:0
// character device.
func (x *extractor) whiteout(name string, hdr *tar.Header) error {
	dir, base := splitParent(name)
	pfd, err := x.dirFd(dir)
	if err != nil {
		return err
	}
	if err := x.remove(pfd, base); err != nil {
		return err
	}
	if err := unix.Mknodat(pfd, base, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("creating whiteout for %q (needs root): %w", name, err)
	}
	if x.isRoot {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("chown whiteout: %w", err)
		}
	}
	return nil
}

// opaque marks directory dir as opaque for overlayfs.
func (x *extractor) opaque(dir string) error {
	dfd, err := x.dirFd(dir)
	if err != nil {
		return err
	}
	fd, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening directory %q: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Fsetxattr(fd, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		return fmt.Errorf("marking %q opaque (needs root): %w", dir, err)
	}
	return nil
}

// fdAttrs applies owner, mode (setuid and all, after chown, which clears
// it) and xattrs to an open file or directory.
func (x *extractor) fdAttrs(fd int, hdr *tar.Header) error {
	if x.isRoot {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if err := unix.Fchmod(fd, uint32(hdr.Mode)&0o7777); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	for k, v := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || !allowedXattr(attr) {
			continue
		}
		// Best effort: the filesystem may not support the namespace.
		_ = unix.Fsetxattr(fd, attr, []byte(v), 0)
	}
	return nil
}

// allowedXattr refuses overlayfs's own attributes from a layer: they would
// let a layer forge whiteouts, redirects or metacopy files.
func allowedXattr(name string) bool {
	return !strings.HasPrefix(name, "trusted.overlay.") && !strings.HasPrefix(name, "user.overlay.")
}

// pathAttrs applies owner, times and (unless a symlink) mode to base in pfd
// without following it.
func (x *extractor) pathAttrs(pfd int, base string, hdr *tar.Header, chmod bool) error {
	if x.isRoot {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if chmod {
		// base was just created by us as a non-symlink: following is safe.
		if err := unix.Fchmodat(pfd, base, uint32(hdr.Mode)&0o7777, 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	return setTimes(pfd, base, hdr.AccessTime, hdr.ModTime)
}

// finishDirs sets directory times, which creating their children changed.
func (x *extractor) finishDirs() error {
	for _, d := range x.dirs {
		if d.name == "." {
			if err := unix.UtimesNano(x.rootPath, timespecs(d.atime, d.mtime)); err != nil {
				return fmt.Errorf("setting times of layer root: %w", err)
			}
			continue
		}
		dir, base := splitParent(d.name)
		pfd, err := x.dirFd(dir)
		if err != nil {
			return err
		}
		if err := setTimes(pfd, base, d.atime, d.mtime); err != nil {
			return fmt.Errorf("setting times of %q: %w", d.name, err)
		}
	}
	return nil
}

func setTimes(pfd int, base string, atime, mtime time.Time) error {
	if err := unix.UtimesNanoAt(pfd, base, timespecs(atime, mtime), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times: %w", err)
	}
	return nil
}

func timespecs(atime, mtime time.Time) []unix.Timespec {
	if atime.IsZero() {
		atime = mtime
	}
	return []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
}
