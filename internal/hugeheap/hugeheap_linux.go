//go:build linux && (amd64 || arm64)

package hugeheap

import (
	"bytes"
	"os"
	"slices"
	"syscall"
	"unsafe"
)

const (
	madvHugepage = 14 // MADV_HUGEPAGE
	madvCollapse = 25 // MADV_COLLAPSE
	hugePage     = 2 << 20
	// arena is the Go heap's arena size on linux/amd64 and arm64: the
	// heap's first mapping lies within one, wherever the runtime put it.
	arena = 64 << 20
)

// reexecRoles are the first arguments with which berth runs as its own
// shim, container init, starter or exec helper (runtime.Reexec): a
// long-lived supervisor, or a process charged to a container's memory,
// whose heap is left alone.
var reexecRoles = []string{"init", "shim", "starter", "execproc"}

// first is an object allocated at init, in the heap's first pages.
var first *[64]byte

var (
	// collapsed is the start of the region collapsed at init, 0 when
	// none was.
	collapsed uintptr
	// collapseErr is why the collapse failed (an older kernel: EINVAL;
	// memory short: EAGAIN, ENOMEM), 0 when it did not.
	collapseErr syscall.Errno
)

// leftAlone reports whether this process's heap is left as it is: the
// switch is off, the host's transparent huge pages are off (MADV_COLLAPSE
// would not heed that), or berth runs in one of its re-executed roles.
func leftAlone() bool {
	if v, _ := syscall.Getenv(Env); v == "off" {
		return true
	}
	if len(os.Args) > 1 && slices.Contains(reexecRoles, os.Args[1]) {
		return true
	}
	return thpNever()
}

// thpNever reports whether the host's transparent huge pages are off
// ("never"), or unknown.
func thpNever() bool {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err != nil || bytes.Contains(mode, []byte("[never]"))
}

func init() {
	if leftAlone() {
		return
	}
	first = new([64]byte)
	p := uintptr(unsafe.Pointer(first))
	// Errors are left alone: without huge pages the heap is as it was.
	// The whole arena is named: madvise marks the parts mapped (the heap
	// so far, and its reservation, which later mappings replace).
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, p&^(arena-1), arena, madvHugepage)
	region := p &^ (hugePage - 1)
	if _, _, collapseErr = syscall.Syscall(syscall.SYS_MADVISE, region, hugePage, madvCollapse); collapseErr == 0 {
		collapsed = region
	}
}
