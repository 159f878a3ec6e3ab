// The program's text mapped whole at its start: see doc.go.

//go:build linux && cgo

#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 // Linux 5.14
#endif

// map_segments maps the program's read-only segments (its code, read-only
// data and the Go runtime's tables) into the page tables at once
// (MADV_POPULATE_READ), from the page cache, rather than a fault per
// 64 KiB it touches on the way (fault-around). A kernel without it leaves
// them to the faults.
static int map_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	int i;

	(void)size;
	(void)data;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz + page - 1) & ~(page - 1);

		if (ph->p_type == PT_LOAD && !(ph->p_flags & PF_W) && start < end)
			madvise((void *)start, end - start, MADV_POPULATE_READ);
	}
	return 1; // the program, not the libraries after it (it is static)
}

// berth_map_text maps this program's read-only segments whole (see
// mark_or_not).
void berth_map_text(void) { dl_iterate_phdr(map_segments, 0); }
