// Package hugeheap backs the Go heap of berth's short-lived processes with
// transparent huge pages from its first touch. It is imported for its
// side effect by the programs (berth, berth-runtime, berth-kube,
// berth-gitops): a wrapper of mmap (-Wl,--wrap=mmap; the Go runtime maps
// memory through the C library's mmap when cgo is in, on linux/amd64,
// arm64, loong64 and ppc64le) marks each mapping the runtime makes of its
// heap (anonymous, read-write, at a fixed address) for huge pages
// (MADV_HUGEPAGE), whatever the host's default (transparent_hugepage
// "madvise"), before anything touches it.
//
// Each 4 KiB page a process touches is otherwise a page fault, and a fault
// is dear in a virtual machine: here 10.7 µs each, 5.5 ms for 2 MiB of
// pages, against about 0.1 ms for a huge page. A command, the starter and
// a container's init (libcontainer's, until it runs the workload) are
// mostly such first touches: `berth version` took 16.4 -> 12.3 ms, a cold
// `up -d` of 10 services 358 -> 290 ms, and the CPU of a cold `up -d` of
// 50 fell by a tenth. The price is up to 2 MiB more resident per 2 MiB of
// heap touched, for as long as the process lives: a container's init
// gives it back when it runs the workload (its memory cgroup is charged
// meanwhile, and a charge a limit refuses falls back to 4 KiB pages).
//
// The same wrapper populates (MAP_POPULATE) the small anonymous mappings
// the runtime makes anywhere (its off-heap chunks of 256 KiB, which it
// touches scattered, a page here and there): one call fills each, instead
// of a fault per page it touches (a no-op `up -d` of 50: 128 fewer
// faults, 21.5 -> 21.0 ms); not in a container's init, whose memory
// cgroup is the container's (a populated page a tight limit refuses is an
// OOM kill, where a refused huge page falls back to small ones).
//
// In those processes too (commands and the starter), the program's
// read-only segments (its code, read-only data, the runtime's tables: 26
// MB of berth) are mapped whole at its start (MADV_POPULATE_READ,
// text.c), from the page cache, rather than by a fault per 64 KiB
// touched. What that saves depends on how the page cache holds the
// binary: read back from disk (after a reboot, or a copy) in small
// pieces, 363 -> 153 faults and a no-op `up -d` of 50 29.1 -> 26.4 ms; as
// the linker wrote it, nothing, either way. A long-lived command
// (`reconcile --watch`) counts those pages in its RSS: page cache,
// shared and reclaimable, not memory of its own.
//
// Left alone: berth run as a container's long-lived supervisor (the
// shim) or an exec's helper (runtime.Reexec's roles "shim" and
// "execproc"), and any process started with BERTH_HUGE_HEAP=off (a
// container's init is started with no environment of berth's, and follows
// only its role). A host whose transparent huge pages are "never" gives
// none whatever is asked. Without cgo the package does nothing.
package hugeheap

// Env turns the huge pages off when "off".
const Env = "BERTH_HUGE_HEAP"
