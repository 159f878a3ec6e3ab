package hugeheap

import (
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
	// heap is mapped in it from its start upward.
	arena = 64 << 20
)

// first is an object allocated at init, in the heap's first pages.
var first *[64]byte

// collapsed is the start of the region collapsed at init, 0 when none was.
var collapsed uintptr

// reexecRoles are the first arguments with which berth runs as its own
// shim, container init, starter or exec helper (runtime.Reexec): a
// long-lived supervisor, or a process charged to a container's memory,
// whose heap is left alone.
var reexecRoles = []string{"init", "shim", "starter", "execproc"}

// leftAlone reports whether this process's heap is left as it is.
func leftAlone() bool {
	if v, _ := syscall.Getenv(Env); v == "off" {
		return true
	}
	return len(os.Args) > 1 && slices.Contains(reexecRoles, os.Args[1])
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
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, region, hugePage, madvCollapse); errno == 0 {
		collapsed = region
	}
}
