package build

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// diffTar writes the upper directory of an overlay as an OCI layer:
// overlayfs's whiteouts (0/0 character devices) become .wh. entries and
// its opaque directories (trusted.overlay.opaque=y) get .wh..wh..opq.
// lower are the layers under it, bottom first, to tell the runtime's
// mount points from directories the step made. On the way it strips
// every path of the extended attributes a layer does not carry, so that
// the directory is the layer exactly (and can become its snapshot). It
// reports whether the layer has any entry.
func diffTar(w io.Writer, upper string, lower []string) (bool, error) {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{} // (dev, inode) → first name, for hard links
	n := 0
	err := filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := stripXattrsOf(p); err != nil {
			return err
		}
		rel, err := filepath.Rel(upper, p)
		if err != nil || rel == "." {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
			return os.Remove(p) // a layer has no sockets (as Docker's archives)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
			n++
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: whiteoutName(rel), Mode: 0o600, Format: tar.FormatPAX})
		}
		if d.IsDir() && runtimeMountPoints[rel] && emptyDir(p) && !inLayers(lower, rel) {
			return filepath.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := header(p, rel, fi, st, links)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		n++
		if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			if err := copyFile(tw, p, hdr.Size); err != nil {
				return err
			}
		}
		if d.IsDir() && opaque(p) {
			n++
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: opaqueName(rel), Mode: 0o600, Format: tar.FormatPAX})
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("archiving the step's changes: %w", err)
	}
	return n > 0, tw.Close()
}

// header is the tar header of one upper-directory path.
func header(p, rel string, fi fs.FileInfo, st unix.Stat_t, links map[[2]uint64]string) (*tar.Header, error) {
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(p); err != nil {
			return nil, err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, err
	}
	hdr.Name = filepath.ToSlash(rel)
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = int(st.Uid), int(st.Gid), "", ""
	hdr.ModTime = time.Unix(st.Mtim.Unix()).UTC()
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	hdr.Format = tar.FormatPAX
	if hdr.Typeflag == tar.TypeReg && st.Nlink > 1 {
		key := [2]uint64{st.Dev, st.Ino}
		if first, ok := links[key]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
		} else {
			links[key] = hdr.Name
		}
	}
	if caps, err := getxattr(p, "security.capability"); err == nil && len(caps) > 0 {
		hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": string(caps)}
	}
	return hdr, nil
}

func copyFile(w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyN(w, f, size)
	return err
}

// opaque reports whether overlayfs marked directory p opaque.
func opaque(p string) bool {
	v, err := getxattr(p, "trusted.overlay.opaque")
	return err == nil && string(v) == "y"
}

func getxattr(p, name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

func emptyDir(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}

// inLayers reports whether any layer holds rel.
func inLayers(layers []string, rel string) bool {
	for _, l := range layers {
		if _, err := os.Lstat(filepath.Join(l, rel)); err == nil {
			return true
		}
	}
	return false
}

// keptXattrs are the extended attributes a snapshot keeps: the one a
// layer carries and overlayfs's opaque marker.
var keptXattrs = map[string]bool{"security.capability": true, "trusted.overlay.opaque": true}

// stripXattrsOf removes from p the extended attributes a layer does
// not carry (overlayfs's own bookkeeping among them).
func stripXattrsOf(p string) error {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil || n == 0 {
		return nil
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name != "" && !keptXattrs[name] {
			if err := unix.Lremovexattr(p, name); err != nil {
				return fmt.Errorf("removing %s of %s: %w", name, p, err)
			}
		}
	}
	return nil
}
