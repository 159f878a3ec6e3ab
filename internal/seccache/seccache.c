//go:build linux && cgo && seccomp

// Memoised libseccomp output for a container's init (see doc.go).
//
// The binary is linked with -Wl,--wrap= for the libseccomp calls that
// change or export a filter, so libseccomp-golang's calls (as runc's
// libcontainer makes them) reach the __wrap_ functions here. Unarmed, each
// passes straight to the real function (__real_). Armed (berth_seccache_arm,
// in a container's init before libcontainer runs), the first filter made is
// tracked: every call on it is recorded, in order with its arguments and
// result, into a log; the cheap ones (init, attributes, architectures) run
// at once, the rule additions are deferred when a cache entry is offered.
// At the export, an entry whose log is byte for byte this log gives its
// program; otherwise the deferred rules run for real, libseccomp generates
// the program, and {log, program} goes back to the shim to be kept.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "seccache.h"

scmp_filter_ctx __real_seccomp_init(uint32_t def_action);
int __real_seccomp_reset(scmp_filter_ctx ctx, uint32_t def_action);
void __real_seccomp_release(scmp_filter_ctx ctx);
int __real_seccomp_merge(scmp_filter_ctx dst, scmp_filter_ctx src);
int __real_seccomp_arch_add(scmp_filter_ctx ctx, uint32_t arch);
int __real_seccomp_arch_remove(scmp_filter_ctx ctx, uint32_t arch);
int __real_seccomp_load(const scmp_filter_ctx ctx);
int __real_seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value);
int __real_seccomp_syscall_priority(scmp_filter_ctx ctx, int syscall, uint8_t priority);
int __real_seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned int n, const struct scmp_arg_cmp *args);
int __real_seccomp_rule_add_exact_array(scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned int n, const struct scmp_arg_cmp *args);
int __real_seccomp_export_pfc(const scmp_filter_ctx ctx, int fd);
int __real_seccomp_export_bpf(const scmp_filter_ctx ctx, int fd);

#define SCMP_WEAK_REAL __attribute__((weak))

enum { OP_INIT = 1, OP_ATTR_SET, OP_ARCH_ADD, OP_RULE, OP_RULE_EXACT };

struct buf {
	unsigned char *p;
	size_t len, cap;
	int bad; // an allocation failed: the content is not the whole log
};

static void put(struct buf *b, const void *v, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n > b->cap) {
		size_t c = b->cap ? b->cap : 16384;
		while (c < b->len + n)
			c *= 2;
		unsigned char *p = realloc(b->p, c);
		if (p == NULL) {
			b->bad = 1;
			return;
		}
		b->p = p, b->cap = c;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void put32(struct buf *b, uint32_t v) { put(b, &v, sizeof v); }
static void put64(struct buf *b, uint64_t v) { put(b, &v, sizeof v); }

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

// What identifies the libseccomp linked in (find_lib).
struct lib_id {
	uintptr_t addr;               // an address inside libseccomp
	int found;                    // the object holding it was found (and its file stat'ed)
	unsigned char build_id[64];   // the object's GNU build ID
	uint32_t build_id_len;        // 0: it has none
	struct stat file;             // a shared library's file; zero for the program
};
static struct {
	int armed;             // the next seccomp_init is tracked
	int result_fd;         // where {log, program} goes on a miss; -1: nowhere
	unsigned char *want;   // the offered entry: its log, then its program
	size_t want_log, want_bpf;
	scmp_filter_ctx ctx;   // the tracked filter; NULL: none
	struct buf log;        // the calls on ctx so far
	size_t applied;        // the log's first record not yet run for real
	int defer;             // rule additions wait for the export
	struct berth_seccache_stats stats;
	struct lib_id lib;     // libseccomp's build, found before the init pivots
} st = {.result_fd = -1};

// build_id copies the GNU build ID of the loaded object info into id, if
// one of its notes holds it.
static void build_id(struct dl_phdr_info *info, struct lib_id *id)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		size_t align = ph->p_align == 8 ? 8 : 4;
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		const unsigned char *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			size_t name = (n->n_namesz + align - 1) & ~(align - 1);
			size_t desc = (n->n_descsz + align - 1) & ~(align - 1);
			const unsigned char *d = p + sizeof *n + name;
			if (d + desc > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(p + sizeof *n, "GNU", 4) == 0 &&
			    n->n_descsz > 0 && n->n_descsz <= sizeof id->build_id) {
				memcpy(id->build_id, d, n->n_descsz);
				id->build_id_len = n->n_descsz;
				return;
			}
			p = d + desc;
		}
	}
}

// find_lib fills the lib_id data with what identifies the loaded object
// holding the address it names: libseccomp.so, or the program itself when
// libseccomp is linked in statically.
static int find_lib(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct lib_id *id = data;
	int holds = 0;
	for (int i = 0; i < info->dlpi_phnum && !holds; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		holds = ph->p_type == PT_LOAD && id->addr >= start && id->addr - start < ph->p_memsz;
	}
	if (!holds)
		return 0;
	id->found = 1;
	build_id(info, id);
	// A shared library's file too (an upgrade replaces it). Not the
	// program's: the init runs from a sealed copy, a new file each time.
	if (info->dlpi_name != NULL && info->dlpi_name[0] == '/' && stat(info->dlpi_name, &id->file) != 0)
		id->found = 0;
	return 1;
}

// end_results shuts the way back to the shim: what was not sent is not
// kept. The descriptor stays, close-on-exec, so that no other file takes
// its number before the container's exec.
static void end_results(void)
{
	if (st.result_fd >= 0)
		shutdown(st.result_fd, SHUT_WR);
	st.result_fd = -1;
}

// untrack stops following st.ctx: later calls pass straight through. The
// results end unwritten, so the shim keeps nothing.
static void untrack(void)
{
	st.ctx = NULL;
	st.defer = 0;
	free(st.log.p);
	st.log = (struct buf){0};
	end_results();
}

// flush runs the deferred rule additions for real, in their order; the
// first failure's code, else 0.
static int flush(void)
{
	size_t off = st.applied;
	while (off < st.log.len) {
		uint32_t op, action, n;
		int32_t sys;
		memcpy(&op, st.log.p + off, 4);
		if (op != OP_RULE && op != OP_RULE_EXACT)
			return -EINVAL; // only rules are ever deferred
		memcpy(&action, st.log.p + off + 4, 4);
		memcpy(&sys, st.log.p + off + 8, 4);
		memcpy(&n, st.log.p + off + 12, 4);
		off += 16;
		struct scmp_arg_cmp args[n ? n : 1];
		for (uint32_t i = 0; i < n; i++) {
			uint32_t a, o;
			memcpy(&a, st.log.p + off, 4);
			memcpy(&o, st.log.p + off + 4, 4);
			args[i].arg = a;
			args[i].op = (enum scmp_compare)o;
			memcpy(&args[i].datum_a, st.log.p + off + 8, 8);
			memcpy(&args[i].datum_b, st.log.p + off + 16, 8);
			off += 24;
		}
		off += 4; // the result recorded: 0, as returned
		int rc = op == OP_RULE ? __real_seccomp_rule_add_array(st.ctx, action, sys, n, args)
				       : __real_seccomp_rule_add_exact_array(st.ctx, action, sys, n, args);
		st.stats.real_rules++;
		if (rc != 0)
			return rc;
		st.applied = off;
	}
	return 0;
}

// settle ends the tracking of ctx before a call that is not recorded, so
// that the call sees libseccomp's own state: when that state must hold the
// rules (every call but release and reset), the deferred ones run first,
// and their failure is the call's (the call is not made: it fails closed).
static int settle(scmp_filter_ctx ctx, int rules)
{
	int rc = 0;
	pthread_mutex_lock(&mu);
	if (ctx != NULL && ctx == st.ctx) {
		if (st.defer && rules)
			rc = flush();
		untrack();
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w, n -= (size_t)w;
	}
	return 0;
}

int berth_seccache_arm(int fd)
{
	struct stat s;
	int v;
	socklen_t l = sizeof v;
	if (fstat(fd, &s) != 0 || !S_ISSOCK(s.st_mode))
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) != 0 || v != SOCK_SEQPACKET)
		return -1;
	l = sizeof v;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) != 0 || v != AF_UNIX)
		return -1;
	unsigned char head[16];
	ssize_t n = recv(fd, head, sizeof head, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (n < 16 || n > BERTH_SECCACHE_MAX || memcmp(head, BERTH_SECCACHE_MAGIC, 8) != 0)
		return -1;
	uint32_t nlog, nbpf;
	memcpy(&nlog, head + 8, 4);
	memcpy(&nbpf, head + 12, 4);
	if ((uint64_t)nlog + nbpf + 16 != (uint64_t)n || nbpf % 8 != 0)
		return -1;
	unsigned char *msg = malloc((size_t)n);
	if (msg == NULL || recv(fd, msg, (size_t)n, MSG_DONTWAIT) != n) {
		free(msg);
		return -1;
	}
	// Which libseccomp this is: the object holding its version, named by
	// its build ID (and its file, for a shared library). Unnamed, nothing
	// tells one build from another: no cache.
	struct lib_id lib;
	memset(&lib, 0, sizeof lib);
	lib.addr = (uintptr_t)seccomp_version();
	dl_iterate_phdr(find_lib, &lib);
	if (!lib.found || lib.build_id_len == 0) {
		free(msg);
		return -1;
	}
	// Ours: it is not the container's process's (closed at its exec, and
	// its number taken until then).
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	pthread_mutex_lock(&mu);
	st.armed = 1;
	st.result_fd = fd;
	st.lib = lib;
	if (nlog > 0) {
		memmove(msg, msg + 16, nlog + nbpf);
		st.want = msg;
		st.want_log = nlog, st.want_bpf = nbpf;
	} else {
		free(msg);
	}
	pthread_mutex_unlock(&mu);
	return nlog > 0 ? 1 : 0;
}

void berth_seccache_stats(struct berth_seccache_stats *out)
{
	pthread_mutex_lock(&mu);
	*out = st.stats;
	pthread_mutex_unlock(&mu);
}

scmp_filter_ctx __wrap_seccomp_init(uint32_t def_action)
{
	scmp_filter_ctx ctx = __real_seccomp_init(def_action);
	pthread_mutex_lock(&mu);
	if (st.armed && ctx != NULL) {
		st.armed = 0;
		st.ctx = ctx;
		st.defer = st.want != NULL;
		// What the program depends on besides the calls: the library
		// (its version, its build and, when shared, its file: an upgrade
		// or a rebuild replaces them), the kernel's seccomp features (the
		// API level), the machine.
		const struct scmp_version *v = seccomp_version();
		struct utsname u;
		memset(&u, 0, sizeof u);
		uname(&u);
		put(&st.log, BERTH_SECCACHE_MAGIC, 8);
		put32(&st.log, v->major), put32(&st.log, v->minor), put32(&st.log, v->micro);
		put32(&st.log, st.lib.build_id_len), put(&st.log, st.lib.build_id, st.lib.build_id_len);
		put64(&st.log, st.lib.file.st_dev), put64(&st.log, st.lib.file.st_ino), put64(&st.log, (uint64_t)st.lib.file.st_size);
		put64(&st.log, (uint64_t)st.lib.file.st_mtim.tv_sec), put64(&st.log, (uint64_t)st.lib.file.st_mtim.tv_nsec);
		put32(&st.log, seccomp_api_get());
		put32(&st.log, seccomp_arch_native());
		put32(&st.log, (uint32_t)sizeof(void *));
		put(&st.log, u.release, sizeof u.release);
		put(&st.log, u.version, sizeof u.version);
		put(&st.log, u.machine, sizeof u.machine);
		put32(&st.log, OP_INIT), put32(&st.log, def_action);
		st.applied = st.log.len;
	}
	pthread_mutex_unlock(&mu);
	return ctx;
}

int __wrap_seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value)
{
	pthread_mutex_lock(&mu);
	if (ctx == NULL || ctx != st.ctx) {
		pthread_mutex_unlock(&mu);
		return __real_seccomp_attr_set(ctx, attr, value);
	}
	if (st.applied != st.log.len) { // after rules: not libcontainer's order
		pthread_mutex_unlock(&mu);
		int rc = settle(ctx, 1);
		return rc != 0 ? rc : __real_seccomp_attr_set(ctx, attr, value);
	}
	int rc = __real_seccomp_attr_set(ctx, attr, value);
	put32(&st.log, OP_ATTR_SET), put32(&st.log, attr), put32(&st.log, value), put32(&st.log, (uint32_t)rc);
	st.applied = st.log.len;
	pthread_mutex_unlock(&mu);
	return rc;
}

int __wrap_seccomp_arch_add(scmp_filter_ctx ctx, uint32_t arch)
{
	pthread_mutex_lock(&mu);
	if (ctx == NULL || ctx != st.ctx) {
		pthread_mutex_unlock(&mu);
		return __real_seccomp_arch_add(ctx, arch);
	}
	if (st.applied != st.log.len) { // after rules: not libcontainer's order
		pthread_mutex_unlock(&mu);
		int rc = settle(ctx, 1);
		return rc != 0 ? rc : __real_seccomp_arch_add(ctx, arch);
	}
	int rc = __real_seccomp_arch_add(ctx, arch);
	put32(&st.log, OP_ARCH_ADD), put32(&st.log, arch), put32(&st.log, (uint32_t)rc);
	st.applied = st.log.len;
	pthread_mutex_unlock(&mu);
	return rc;
}

static int rule(int exact, scmp_filter_ctx ctx, uint32_t action, int sys, unsigned int n, const struct scmp_arg_cmp *args)
{
	pthread_mutex_lock(&mu);
	if (ctx == NULL || ctx != st.ctx) {
		pthread_mutex_unlock(&mu);
		return exact ? __real_seccomp_rule_add_exact_array(ctx, action, sys, n, args)
			     : __real_seccomp_rule_add_array(ctx, action, sys, n, args);
	}
	size_t mark = st.log.len;
	put32(&st.log, exact ? OP_RULE_EXACT : OP_RULE), put32(&st.log, action), put32(&st.log, (uint32_t)sys), put32(&st.log, n);
	for (unsigned int i = 0; i < n; i++) {
		put32(&st.log, args[i].arg), put32(&st.log, (uint32_t)args[i].op);
		put64(&st.log, args[i].datum_a), put64(&st.log, args[i].datum_b);
	}
	put32(&st.log, 0);
	if (st.log.bad) {
		// Out of memory: the rules deferred so far, then this one, run
		// for real, and the filter is no longer tracked.
		st.log.len = mark, st.log.bad = 0;
		int rc = st.defer ? flush() : 0;
		if (rc == 0)
			rc = exact ? __real_seccomp_rule_add_exact_array(ctx, action, sys, n, args)
				   : __real_seccomp_rule_add_array(ctx, action, sys, n, args);
		untrack();
		pthread_mutex_unlock(&mu);
		return rc;
	}
	st.log.len -= 4; // the result's place, written below
	int rc = 0;
	if (!st.defer) {
		rc = exact ? __real_seccomp_rule_add_exact_array(ctx, action, sys, n, args)
			   : __real_seccomp_rule_add_array(ctx, action, sys, n, args);
		st.stats.real_rules++;
	}
	put32(&st.log, (uint32_t)rc);
	if (!st.defer)
		st.applied = st.log.len;
	if (rc != 0)
		untrack(); // a failed rule ends libcontainer's filter: nothing to keep
	pthread_mutex_unlock(&mu);
	return rc;
}

int __wrap_seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int sys, unsigned int n, const struct scmp_arg_cmp *args)
{
	return rule(0, ctx, action, sys, n, args);
}

int __wrap_seccomp_rule_add_exact_array(scmp_filter_ctx ctx, uint32_t action, int sys, unsigned int n, const struct scmp_arg_cmp *args)
{
	return rule(1, ctx, action, sys, n, args);
}

// hand_back sends {log, program} to the shim, one message (non-blocking:
// the shim made the socket's buffer large enough; one that does not fit is
// not sent).
static void hand_back(const unsigned char *bpf, size_t nbpf)
{
	if (st.result_fd < 0 || st.log.bad)
		return;
	struct buf out = {0};
	put(&out, BERTH_SECCACHE_MAGIC, 8);
	put32(&out, (uint32_t)st.log.len);
	put32(&out, (uint32_t)nbpf);
	put(&out, st.log.p, st.log.len);
	put(&out, bpf, nbpf);
	if (!out.bad)
		(void)send(st.result_fd, out.p, out.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(out.p);
}

int __wrap_seccomp_export_bpf(const scmp_filter_ctx ctx, int fd)
{
	pthread_mutex_lock(&mu);
	if (ctx == NULL || ctx != st.ctx) {
		pthread_mutex_unlock(&mu);
		return __real_seccomp_export_bpf(ctx, fd);
	}
	int rc;
	if (st.defer && !st.log.bad && st.log.len == st.want_log && memcmp(st.log.p, st.want, st.want_log) == 0) {
		// The same calls, library and kernel as when the entry was made.
		// The filter stays tracked with its rules deferred: any later
		// call that needs them (a load, another kind of export) runs
		// them first (settle). There is nothing to hand back.
		st.stats.hits++;
		rc = write_all(fd, st.want + st.want_log, st.want_bpf);
		end_results();
		pthread_mutex_unlock(&mu);
		return rc;
	}
	rc = st.defer ? flush() : 0;
	if (rc != 0) {
		untrack();
		pthread_mutex_unlock(&mu);
		return rc;
	}
	// Generate into memory, then give the bytes to fd and to the shim.
	st.stats.real_exports++;
	int mem = memfd_create("berth-seccache-bpf", MFD_CLOEXEC);
	if (mem < 0) {
		untrack();
		pthread_mutex_unlock(&mu);
		return __real_seccomp_export_bpf(ctx, fd);
	}
	rc = __real_seccomp_export_bpf(ctx, mem);
	off_t n = rc == 0 ? lseek(mem, 0, SEEK_END) : -1;
	unsigned char *bpf = n >= 0 ? malloc(n ? (size_t)n : 1) : NULL;
	if (rc == 0 && (bpf == NULL || pread(mem, bpf, (size_t)n, 0) != n))
		rc = -ENOMEM;
	close(mem);
	if (rc == 0)
		rc = write_all(fd, bpf, (size_t)n);
	if (rc == 0)
		hand_back(bpf, (size_t)n);
	free(bpf);
	untrack();
	pthread_mutex_unlock(&mu);
	return rc;
}

// The calls libcontainer does not make: the deferred rules run first and
// the filter is no longer tracked, so they see libseccomp's own state.
int __wrap_seccomp_reset(scmp_filter_ctx ctx, uint32_t def_action)
{
	settle(ctx, 0); // reset drops the rules
	return __real_seccomp_reset(ctx, def_action);
}

void __wrap_seccomp_release(scmp_filter_ctx ctx)
{
	settle(ctx, 0);
	__real_seccomp_release(ctx);
}

int __wrap_seccomp_merge(scmp_filter_ctx dst, scmp_filter_ctx src)
{
	int rc = settle(dst, 1);
	if (rc == 0)
		rc = settle(src, 1);
	return rc != 0 ? rc : __real_seccomp_merge(dst, src);
}

int __wrap_seccomp_arch_remove(scmp_filter_ctx ctx, uint32_t arch)
{
	int rc = settle(ctx, 1);
	return rc != 0 ? rc : __real_seccomp_arch_remove(ctx, arch);
}

int __wrap_seccomp_load(const scmp_filter_ctx ctx)
{
	int rc = settle(ctx, 1);
	return rc != 0 ? rc : __real_seccomp_load(ctx);
}

int __wrap_seccomp_syscall_priority(scmp_filter_ctx ctx, int syscall, uint8_t priority)
{
	int rc = settle(ctx, 1);
	return rc != 0 ? rc : __real_seccomp_syscall_priority(ctx, syscall, priority);
}

int __wrap_seccomp_export_pfc(const scmp_filter_ctx ctx, int fd)
{
	int rc = settle(ctx, 1);
	return rc != 0 ? rc : __real_seccomp_export_pfc(ctx, fd);
}

// Newer libseccomp calls (weak: absent from 2.5.4, present in 2.6), and
// setting the API level: the same, the call failing as libseccomp-golang's
// compat wrappers fail when the library lacks it.
SCMP_WEAK_REAL int __real_seccomp_precompute(scmp_filter_ctx ctx);
SCMP_WEAK_REAL int __real_seccomp_export_bpf_mem(const scmp_filter_ctx ctx, void *buf, size_t *len);
SCMP_WEAK_REAL int __real_seccomp_transaction_start(const scmp_filter_ctx ctx);
SCMP_WEAK_REAL int __real_seccomp_transaction_commit(const scmp_filter_ctx ctx);
SCMP_WEAK_REAL void __real_seccomp_transaction_reject(const scmp_filter_ctx ctx);
SCMP_WEAK_REAL int __real_seccomp_api_set(unsigned int level);

int __wrap_seccomp_precompute(scmp_filter_ctx ctx)
{
	int rc = settle(ctx, 1);
	if (rc != 0)
		return rc;
	return __real_seccomp_precompute ? __real_seccomp_precompute(ctx) : -EOPNOTSUPP;
}

int __wrap_seccomp_export_bpf_mem(const scmp_filter_ctx ctx, void *buf, size_t *len)
{
	int rc = settle(ctx, 1);
	if (rc != 0)
		return rc;
	return __real_seccomp_export_bpf_mem ? __real_seccomp_export_bpf_mem(ctx, buf, len) : -EOPNOTSUPP;
}

int __wrap_seccomp_transaction_start(const scmp_filter_ctx ctx)
{
	int rc = settle(ctx, 1);
	if (rc != 0)
		return rc;
	return __real_seccomp_transaction_start ? __real_seccomp_transaction_start(ctx) : -EOPNOTSUPP;
}

int __wrap_seccomp_transaction_commit(const scmp_filter_ctx ctx)
{
	int rc = settle(ctx, 1);
	if (rc != 0)
		return rc;
	return __real_seccomp_transaction_commit ? __real_seccomp_transaction_commit(ctx) : -EOPNOTSUPP;
}

void __wrap_seccomp_transaction_reject(const scmp_filter_ctx ctx)
{
	settle(ctx, 1); // a void call: a failure shows in the filter's next one
	if (__real_seccomp_transaction_reject)
		__real_seccomp_transaction_reject(ctx);
}

int __wrap_seccomp_api_set(unsigned int level)
{
	pthread_mutex_lock(&mu);
	scmp_filter_ctx ctx = st.ctx;
	pthread_mutex_unlock(&mu);
	int rc = settle(ctx, 1); // the level the log names would no longer hold
	if (rc != 0)
		return rc;
	return __real_seccomp_api_set ? __real_seccomp_api_set(level) : -EOPNOTSUPP;
}
