package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxUserFile bounds how much of a container's passwd or group file is read.
const maxUserFile = 1 << 20

// resolveUserIn resolves user against rootfs/etc/passwd and /etc/group,
// opened with openat2(RESOLVE_IN_ROOT) so that symlinks in the image
// cannot point outside the rootfs.
func resolveUserIn(rootfs, user string) (Identity, error) {
	passwd, err := openInRoot(rootfs, "etc/passwd")
	if err != nil {
		return Identity{}, err
	}
	defer closeIf(passwd)
	group, err := openInRoot(rootfs, "etc/group")
	if err != nil {
		return Identity{}, err
	}
	defer closeIf(group)
	return ResolveUser(user, limit(passwd), limit(group))
}

// openInRoot opens name inside root; a missing file is (nil, nil).
func openInRoot(root, name string) (*os.File, error) {
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening rootfs %s: %w", root, err)
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening /%s in rootfs: %w", name, err)
	}
	return os.NewFile(uintptr(fd), "/"+name), nil
}

// limit returns a bounded reader of f, or nil (no file) when f is nil.
func limit(f *os.File) io.Reader {
	if f == nil {
		return nil
	}
	return io.LimitReader(f, maxUserFile)
}

func closeIf(f *os.File) {
	if f != nil {
		f.Close()
	}
}
