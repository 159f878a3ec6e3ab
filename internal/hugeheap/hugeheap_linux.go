//go:build linux && cgo

package hugeheap

// #cgo LDFLAGS: -Wl,--wrap=mmap
// extern int berth_hugeheap_on;
import "C"

// on reports whether this process's heap mappings are marked for huge
// pages (decided before main from its arguments and environment).
func on() bool { return C.berth_hugeheap_on != 0 }
