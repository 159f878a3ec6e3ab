// The Go heap's mappings marked for huge pages: see doc.go.

//go:build linux && cgo

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)
#define SMALL ((size_t)256 << 10) // the Go runtime's persistentChunkSize

// marking is whether this process's heap mappings are marked, and
// populating whether its small ones are populated and its text mapped
// whole, decided before main (mark_or_not).
static int marking, populating;

// leftAlone are the first arguments with which berth runs as a
// long-lived supervisor or an exec's helper (runtime.Reexec's roles).
static const char *const leftAlone[] = {"shim", "execproc"};

void berth_map_text(void); // text.c

// mark_or_not runs before the Go runtime starts (an ELF constructor,
// given the process's arguments and environment), and so before its first
// mapping of the heap.
__attribute__((constructor)) static void mark_or_not(int argc, char **argv, char **envp)
{
	size_t i;

	for (; envp && *envp; envp++)
		if (strcmp(*envp, "BERTH_HUGE_HEAP=off") == 0)
			return;
	for (i = 0; argc > 1 && i < sizeof(leftAlone) / sizeof(leftAlone[0]); i++)
		if (strcmp(argv[1], leftAlone[i]) == 0)
			return;
	marking = 1;
	// Not a container's init: its memory cgroup is the container's, where
	// a page populated and never touched could cost the OOM killer's visit
	// under a tight limit (a huge page it is refused falls back to small
	// ones; a populated page it is refused does not). Nor is its text
	// mapped whole: the init its process becomes through nsexec's clones
	// does not keep the mapping (a held init had 4092 of its 5108 kB of
	// code mapped all the same), and a cold `up -d` of 50 took 2% more
	// CPU so.
	populating = argc < 2 || strcmp(argv[1], "init") != 0;
	if (populating)
		berth_map_text();
}

void *__real_mmap(void *, size_t, int, int, int, off_t);

// __wrap_mmap stands for mmap in the whole program (-Wl,--wrap=mmap),
// which the Go runtime calls for its memory when cgo is in. It does two
// things.
//
// A mapping anonymous and private, read-write, at a fixed address is the
// runtime's sysMap: the heap's, in steps of megabytes, and its page
// allocator's summaries, in pieces too small to hold a huge page. The
// huge pages it holds whole are marked (MADV_HUGEPAGE) before it is
// returned, so before any of it is touched. Should the marking fail, the
// mapping stands as the runtime asked. This, where marking.
//
// Such a mapping anywhere, of at most SMALL bytes, is mostly the runtime's
// off-heap memory for as long as the process lives (persistentalloc's
// chunks of 256 KiB): span sets, spans, which it touches scattered, a
// block per span class on its first sweep, a fault each. It is populated
// (MAP_POPULATE): the kernel fills it in one call, without the fault per
// page, which costs more here than the page (a no-op `up -d` made 128
// fewer faults). The runtime maps nothing larger so but once, at start,
// and some of that it never touches (the heap's 32 MiB arena index).
// This, where populating.
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS, rw = PROT_READ | PROT_WRITE;
	void *p;
	uintptr_t start, end;

	if (populating && flags == anon && prot == rw && fd == -1 && len <= SMALL)
		flags |= MAP_POPULATE;
	p = __real_mmap(addr, len, prot, flags, fd, off);
	if (!marking || p == MAP_FAILED || fd != -1 || (flags & (anon | MAP_FIXED)) != (anon | MAP_FIXED) || prot != rw)
		return p;
	start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	end = ((uintptr_t)p + len) & ~(HUGE_PAGE - 1);
	if (start < end)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
	return p;
}
