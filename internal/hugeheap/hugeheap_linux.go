//go:build linux && cgo

package hugeheap

// The C side (mmap.c) wraps the C library's mmap for the whole program.

// #cgo LDFLAGS: -Wl,--wrap=mmap
import "C"
