package fscopy

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// archiver writes one tree into a tar stream, by file descriptors: the
// walk below the source never follows a symlink, it archives it.
type archiver struct {
	tw    *tar.Writer
	links map[[2]uint64]string // (dev, ino) of files with several links → first name
}

// writeTar archives src (resolved inside root) into w, its top entry named
// name (its content directly for "."), and ends the stream.
func writeTar(w io.Writer, root *Root, src Source) error {
	dir, base := Split(src.Path)
	dfd, err := root.dir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	a := &archiver{tw: tar.NewWriter(w), links: map[[2]uint64]string{}}
	if err := a.add(dfd, base, src.Name, src.Path); err != nil {
		return err
	}
	return a.tw.Close()
}

// add archives entry base of directory dfd under name; shown is its path
// for messages.
func (a *archiver) add(dfd int, base, name, shown string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &pathError{op: "lstat", path: shown, err: err}
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()).Truncate(time.Second),
		Format:  tar.FormatPAX,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		if err := a.tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("archiving %s: %w", shown, err)
		}
		return a.dir(dfd, base, name, shown, st)
	case unix.S_IFLNK:
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(dfd, base, buf)
		if err != nil {
			return &pathError{op: "readlink", path: shown, err: err}
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, string(buf[:n])
	case unix.S_IFREG:
		key := [2]uint64{st.Dev, st.Ino}
		if first, ok := a.links[key]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			break
		}
		if st.Nlink > 1 {
			a.links[key] = name
		}
		return a.file(dfd, base, hdr, shown, st)
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil // sockets have no tar form; docker skips them too
	}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("archiving %s: %w", shown, err)
	}
	return nil
}

// kernelFS are the filesystems whose files are the kernel's state, not
// data: a copy of a running container's / keeps their mount points empty,
// as docker cp does.
var kernelFS = map[int64]bool{
	unix.PROC_SUPER_MAGIC: true, unix.SYSFS_MAGIC: true, unix.DEVPTS_SUPER_MAGIC: true,
	mqueueMagic: true, unix.CGROUP_SUPER_MAGIC: true, unix.CGROUP2_SUPER_MAGIC: true,
	unix.SECURITYFS_MAGIC: true, unix.DEBUGFS_MAGIC: true, unix.TRACEFS_MAGIC: true, unix.BPF_FS_MAGIC: true,
}

// mqueueMagic is the POSIX message queue filesystem's magic, which x/sys lacks.
const mqueueMagic = 0x19800202

// openSame opens base in dfd without following a symlink and checks it is
// still the inode that was stat'ed.
func openSame(dfd int, base string, flags int, st unix.Stat_t, shown string) (*os.File, error) {
	fd, err := unix.Openat(dfd, base, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &pathError{op: "opening", path: shown, err: err}
	}
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil || now.Ino != st.Ino || now.Dev != st.Dev {
		unix.Close(fd)
		return nil, &pathError{op: "opening", path: shown, err: fmt.Errorf("changed while being copied")}
	}
	return os.NewFile(uintptr(fd), shown), nil
}

// file archives a regular file's header and content.
func (a *archiver) file(dfd int, base string, hdr *tar.Header, shown string, st unix.Stat_t) error {
	f, err := openSame(dfd, base, unix.O_RDONLY, st, shown)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("archiving %s: %w", shown, err)
	}
	if _, err := io.CopyN(a.tw, f, st.Size); err != nil {
		return fmt.Errorf("archiving %s: %w", shown, err)
	}
	return nil
}

// dir archives a directory's entries, sorted by name.
func (a *archiver) dir(dfd int, base, name, shown string, st unix.Stat_t) error {
	f, err := openSame(dfd, base, unix.O_RDONLY|unix.O_DIRECTORY, st, shown)
	if err != nil {
		return err
	}
	defer f.Close()
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err == nil && kernelFS[int64(fs.Type)] {
		return nil // a running container's /proc, /sys…: the directory, not the kernel's files
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("reading directory %s: %w", shown, err)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := a.add(int(f.Fd()), n, path.Join(name, n), path.Join(shown, n)); err != nil {
			return err
		}
	}
	return nil
}
