// Package hugeheap backs the start of a process's Go heap with transparent
// huge pages, for the short-lived processes of berth (the CLI) whose run
// is mostly first touches of fresh heap pages. It is imported for its
// init, which runs before those of most packages (Go orders inits by
// import path once their dependencies are done, and it depends on the
// standard library's lowest only): the 2 MiB region holding the heap's
// first objects is collapsed into a huge page (MADV_COLLAPSE, Linux 6.1),
// and the rest of the heap mapped so far is marked for huge pages on its
// first touch (MADV_HUGEPAGE), whatever the host's default
// (transparent_hugepage "madvise"). Each 4 KiB page touched otherwise
// costs a page fault, and a fault is dear in a virtual machine: `berth
// version` 22.3 -> 18.2 ms, a no-op `up -d` of 50 services 44.1 -> 39.4
// ms (interleaved medians). The price is up to 4 MiB resident for as long
// as the process lives.
//
// BERTH_HUGE_HEAP=off leaves the heap alone; so does a host whose
// transparent huge pages are off ("never"), and so does berth run as its
// own shim or container init (runtime.Reexec's roles). Only on linux/amd64
// and arm64, whose heap arenas are 64 MiB.
package hugeheap

// Env turns the huge pages off when "off".
const Env = "BERTH_HUGE_HEAP"
