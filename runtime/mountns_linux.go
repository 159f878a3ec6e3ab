package runtime

import (
	"encoding/binary"
	"os"
	"strings"
	"unsafe"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// rootNotShared reports whether the calling thread's root mount
// propagates nothing: the shim's mounts made in the thread's namespace
// then reach no other namespace, whatever the namespace is. A mount at
// the root filesystem's path (rootfsMounted) is no proof of a private
// namespace: on the host, a restart's shim re-executed back into its
// namespace, one could be there too.
// It asks the kernel about that one mount (rootPropagation) and reads the
// thread's whole mount table only where the kernel cannot answer.
func rootNotShared() bool {
	if shared, ok := rootPropagation(); ok {
		return !shared
	}
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return false
	}
	shared, found := rootMountShared(string(b))
	return found && !shared
}

// The statmount(2) ABI (linux/mount.h, Linux 6.8), which x/sys/unix does
// not wrap yet.
const (
	statmountMntBasic = 0x2 // STATMOUNT_MNT_BASIC
	// mntIDReqSize is MNT_ID_REQ_SIZE_VER0: size, spare (or, from 6.18,
	// a namespace fd; 0 is none), mnt_id, param.
	mntIDReqSize = 24
	// The fixed part of struct statmount and the offsets of the fields
	// read from it.
	statmountSize          = 512
	statmountMaskOff       = 8
	statmountPropagationOf = 72
)

// rootPropagation reports whether the mount on the calling thread's "/"
// (the one on top, which the path "/.." resolves to from the root: a
// path walk climbing to the root follows the mounts stacked on it, as
// the last line of mountinfo with mount point "/" shows) is in a peer
// group. ok is false where the kernel cannot say (before Linux 6.8: no
// unique mount IDs or no statmount).
func rootPropagation() (shared, ok bool) {
	id := mountID("/..")
	if id == 0 {
		return false, false
	}
	var req [mntIDReqSize]byte
	binary.NativeEndian.PutUint32(req[0:], mntIDReqSize)
	binary.NativeEndian.PutUint64(req[8:], id)
	binary.NativeEndian.PutUint64(req[16:], statmountMntBasic)
	var buf [statmountSize]byte
	_, _, errno := unix.Syscall6(unix.SYS_STATMOUNT, uintptr(unsafe.Pointer(&req[0])), uintptr(unsafe.Pointer(&buf[0])), statmountSize, 0, 0, 0)
	if errno != 0 || binary.NativeEndian.Uint64(buf[statmountMaskOff:])&statmountMntBasic == 0 {
		return false, false
	}
	return binary.NativeEndian.Uint64(buf[statmountPropagationOf:])&unix.MS_SHARED != 0, true
}

// mountID is the unique ID of the mount path is on, as the calling thread
// sees it; 0 when the kernel does not say (before Linux 6.8) or path is
// gone.
func mountID(path string) uint64 {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_STATX_DONT_SYNC, unix.STATX_MNT_ID_UNIQUE, &stx); err != nil ||
		stx.Mask&unix.STATX_MNT_ID_UNIQUE == 0 {
		return 0
	}
	return stx.Mnt_id
}

// rootMountShared reports, of a mountinfo table, whether the mount on
// "/" (the last line of that mount point: the one on top) is in a peer
// group ("shared:N" among its optional fields), and whether there is one;
// a table that cannot be parsed has none.
func rootMountShared(table string) (shared, found bool) {
	infos, err := mountinfo.GetMountsFromReader(strings.NewReader(table), nil)
	if err != nil {
		return false, false
	}
	for _, m := range infos {
		if m.Mountpoint != "/" {
			continue
		}
		found, shared = true, false
		for _, o := range strings.Fields(m.Optional) {
			shared = shared || strings.HasPrefix(o, "shared:")
		}
	}
	return shared, found
}
