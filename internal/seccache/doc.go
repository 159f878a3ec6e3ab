// Package seccache lets a container's init skip libseccomp's rule database
// and program generation when an earlier init compiled the same filter.
//
// runc's libcontainer compiles each container's seccomp filter with
// libseccomp in the container's init and takes no compiled program; for
// Docker's default profile that is ~9 ms of CPU per container. Binaries
// built with libseccomp link this package, whose C side wraps the
// libseccomp calls that build and export a filter (-Wl,--wrap=, see
// seccache.c). The shim offers the init the entry kept for the filter's
// configuration (Offer): a log of the libseccomp calls that made it and the
// program libseccomp exported. The init (Arm) records its own calls and
// defers the rule additions; at the export, when its log is byte for byte
// the entry's (same calls and arguments, same libseccomp version and
// build, kernel seccomp API level and release, machine), it writes the
// entry's program;
// otherwise it runs the deferred calls and libseccomp exports as usual, and
// hands {log, program} back to the shim (Collect), which keeps it under
// BERTH_ROOT. libcontainer then patches and loads the program as always,
// so the loaded filter is the one libseccomp would have made. Keeping an
// entry removes those of an earlier naming of entries, which no shim
// looks up any more.
//
// A libseccomp build is named by the GNU build ID of the object that holds
// it: libseccomp.so (with its file's device, inode, size and time) or,
// when libseccomp is linked in statically (berth-runtime, see the
// Makefile), the program's own, so that a rebuilt program, which may hold
// another libseccomp, never takes a program another one compiled. Go
// derives that build ID from its build inputs and flags, not from the
// contents of libseccomp.a and libc.a: the Makefile passes a checksum of
// them in linkedLibs, so that a program relinked with a patched
// libseccomp of the same version gets another build ID. An object
// without a build ID gets no cache: the init compiles as usual.
//
// The offer reaches the init as the first of its extra files, one end of a
// unix seqpacket socket pair (the offer is one message, the result
// another): libcontainer passes no other channel to its init (it marks
// every other descriptor close-on-exec before starting it), and by the time
// the init installs seccomp it has pivoted into the container's root. The
// init takes the offer before libcontainer runs and marks the descriptor
// close-on-exec, so the container's process never has it; it keeps the
// number taken until then, so no other file can take it and be passed on.
package seccache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// linkedLibs is set by the Makefile (-X) in a static berth-runtime to a
// checksum of the libseccomp.a and libc.a linked in. Nothing reads it: it
// exists so that the program's build ID, which names its libseccomp in
// the cache, changes with those archives.
var linkedLibs string

// Off is the value of the environment variable Env that turns the cache
// off (the shim offers nothing; the init compiles as libcontainer does).
const (
	Env = "BERTH_SECCOMP_CACHE"
	Off = "off"
)

// magic starts a kept entry, an offer and a result (BERTH_SECCACHE_MAGIC).
var magic = []byte("bsecc\x00\x00\x01")

// maxEntry bounds an entry's size (BERTH_SECCACHE_MAX).
const maxEntry = 256 << 10

// Entry is a filter compiled once: the log of the libseccomp calls that
// made it and the program libseccomp exported for them.
type Entry struct {
	Log, BPF []byte
}

// frame encodes e as the init reads and writes it: magic, the two
// lengths, log, program.
func (e Entry) frame() []byte {
	b := make([]byte, 0, 16+len(e.Log)+len(e.BPF))
	b = append(b, magic...)
	b = binary.NativeEndian.AppendUint32(b, uint32(len(e.Log)))
	b = binary.NativeEndian.AppendUint32(b, uint32(len(e.BPF)))
	b = append(b, e.Log...)
	return append(b, e.BPF...)
}

// parseFrame decodes what frame encodes; an error for anything else, a
// short or padded frame included.
func parseFrame(b []byte) (Entry, error) {
	if len(b) < 16 || len(b) > maxEntry || !bytes.Equal(b[:8], magic) {
		return Entry{}, errors.New("not a seccomp cache frame")
	}
	nlog, nbpf := binary.NativeEndian.Uint32(b[8:]), binary.NativeEndian.Uint32(b[12:])
	if uint64(nlog)+uint64(nbpf)+16 != uint64(len(b)) || nlog < 8 || nbpf == 0 || nbpf%8 != 0 {
		return Entry{}, fmt.Errorf("seccomp cache frame of %d bytes holds %d + %d", len(b), nlog, nbpf)
	}
	return Entry{Log: b[16 : 16+nlog], BPF: b[16+nlog:]}, nil
}

// Marshal encodes e as kept on disk: its frame after a SHA-256 of it, so
// that a damaged file is never offered.
func (e Entry) Marshal() []byte {
	f := e.frame()
	sum := sha256.Sum256(f)
	return append(sum[:], f...)
}

// Unmarshal decodes what Marshal encodes, checking the checksum.
func Unmarshal(b []byte) (Entry, error) {
	if len(b) < sha256.Size {
		return Entry{}, errors.New("seccomp cache entry too short")
	}
	if sum := sha256.Sum256(b[sha256.Size:]); !bytes.Equal(sum[:], b[:sha256.Size]) {
		return Entry{}, errors.New("seccomp cache entry damaged: checksum mismatch")
	}
	return parseFrame(b[sha256.Size:])
}
