// Memoised libseccomp output for a container's init (see seccache.c).
#ifndef BERTH_SECCACHE_H
#define BERTH_SECCACHE_H

#include <stdint.h>

// The first 8 bytes of an offered entry, of a result and of a log.
#define BERTH_SECCACHE_MAGIC "bsecc\x00\x00\x01"

// The largest offer or result (a program is at most 4096 instructions,
// 32 KiB; Docker's default profile's log is about 20 KiB).
#define BERTH_SECCACHE_MAX (256 << 10)

struct berth_seccache_stats {
	uint64_t hits;          // exports answered from the offered entry
	uint64_t real_exports;  // exports libseccomp generated while tracked
	uint64_t real_rules;    // rule additions libseccomp ran while tracked
};

// berth_seccache_arm checks that fd is a unix seqpacket socket whose next
// message is an offer (magic, log length, program length, log, program);
// if so it takes the message, keeps fd (close-on-exec) for the result and
// tracks the next filter made. 1: armed with an entry; 0: armed without
// one (a miss sends the result back); -1: not armed, nothing read.
int berth_seccache_arm(int fd);

// berth_seccache_stats copies the counters (for tests).
void berth_seccache_stats(struct berth_seccache_stats *out);

#endif
