/*
 * berth-idle without a C library (x86_64 and arm64; built with
 * -DBERTH_IDLE_NOLIBC -nostdlib -ffreestanding, see the Makefile): the
 * few system calls and string functions it uses, and its entry point.
 * A static glibc's start-up alone dirties about 40 kB per process (its
 * data, relocated pointers, thread-local block and heap) and maps a heap
 * whose page tables cost another page: per container, as every idle shim
 * is a process of its own (issue 15). glibc's headers still give the
 * types and constants; only the functions here are linked.
 */
#include <stdarg.h>

static int errno_value;

int *__errno_location(void)
{
	return &errno_value;
}

char **environ;

#if defined(__x86_64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
#elif defined(__aarch64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory", "cc");
	return x0;
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	mov x0, sp\n"
	"	bl start_c\n"
	"	brk #0\n");
#else
#error "berth-idle's nolibc build is for x86_64 and arm64: build it without -DBERTH_IDLE_NOLIBC"
#endif

/* ret turns a raw system call result into the C convention: -1, errno. */
static long ret(long r)
{
	if (r < 0 && r > -4096) {
		errno_value = (int)-r;
		return -1;
	}
	return r;
}

long syscall(long n, ...)
{
	va_list ap;
	va_start(ap, n);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	return ret(sys6(n, a, b, c, d, e, f));
}

#define SC(n, a, b, c, d, e, f) ret(sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f)))

void _exit(int code)
{
	for (;;)
		sys6(SYS_exit_group, code, 0, 0, 0, 0, 0);
}

ssize_t read(int fd, void *p, size_t n) { return SC(SYS_read, fd, p, n, 0, 0, 0); }
ssize_t write(int fd, const void *p, size_t n) { return SC(SYS_write, fd, p, n, 0, 0, 0); }
int close(int fd) { return (int)SC(SYS_close, fd, 0, 0, 0, 0, 0); }
int munmap(void *p, size_t n) { return (int)SC(SYS_munmap, p, n, 0, 0, 0, 0); }
int fstat(int fd, struct stat *st) { return (int)SC(SYS_fstat, fd, st, 0, 0, 0, 0); }
int epoll_create1(int flags) { return (int)SC(SYS_epoll_create1, flags, 0, 0, 0, 0, 0); }
int epoll_ctl(int ep, int op, int fd, struct epoll_event *ev) { return (int)SC(SYS_epoll_ctl, ep, op, fd, ev, 0, 0); }
int epoll_wait(int ep, struct epoll_event *evs, int n, int ms)
{
	return (int)SC(SYS_epoll_pwait, ep, evs, n, ms, 0, 8);
}
int accept4(int fd, __SOCKADDR_ARG a, socklen_t *restrict l, int flags) { return (int)SC(SYS_accept4, fd, a.__sockaddr__, l, flags, 0, 0); }
int getsockopt(int fd, int level, int name, void *restrict v, socklen_t *restrict l)
{
	return (int)SC(SYS_getsockopt, fd, level, name, v, l, 0);
}
ssize_t recv(int fd, void *p, size_t n, int flags) { return SC(SYS_recvfrom, fd, p, n, flags, 0, 0); }
ssize_t sendmsg(int fd, const struct msghdr *m, int flags) { return SC(SYS_sendmsg, fd, m, flags, 0, 0, 0); }
int eventfd(unsigned int v, int flags) { return (int)SC(SYS_eventfd2, v, flags, 0, 0, 0, 0); }
int memfd_create(const char *name, unsigned int flags) { return (int)SC(SYS_memfd_create, name, flags, 0, 0, 0, 0); }

int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int mode = (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, int) : 0;
	va_end(ap);
	return (int)SC(SYS_openat, AT_FDCWD, path, flags, mode, 0, 0);
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return (int)SC(SYS_fcntl, fd, cmd, arg, 0, 0, 0);
}

/* The compiler may call these four for copies and zeroing of its own. */
void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	if (dp < sp)
		while (n--)
			*dp++ = *sp++;
	else
		while (n--)
			dp[n] = sp[n];
	return d;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;
	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	for (; n; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)p;
	return NULL;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strstr(const char *h, const char *n)
{
	size_t l = strlen(n);
	for (; *h; h++)
		if (strncmp(h, n, l) == 0)
			return (char *)h;
	return l == 0 ? (char *)h : NULL;
}

char *strcpy(char *restrict d, const char *restrict s)
{
	char *r = d;
	while ((*d++ = *s++))
		;
	return r;
}

char *strtok(char *restrict s, const char *restrict sep)
{
	static char *next;
	if (!s)
		s = next;
	if (!s)
		return NULL;
	while (*s && strchr(sep, *s))
		s++;
	if (!*s) {
		next = NULL;
		return NULL;
	}
	char *t = s;
	while (*s && !strchr(sep, *s))
		s++;
	if (*s)
		*s++ = 0;
	next = s;
	return t;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	unsigned long v = 0;
	for (;; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'z')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'Z')
			d = *s - 'A' + 10;
		else
			break;
		if (d >= base)
			break;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (end)
		*end = (char *)s;
	return v;
}

long long atoll(const char *s)
{
	int neg = *s == '-';
	if (neg || *s == '+')
		s++;
	long long v = (long long)strtoul(s, NULL, 10);
	return neg ? -v : v;
}

int atoi(const char *s)
{
	return (int)atoll(s);
}

char *getenv(const char *name)
{
	size_t l = strlen(name);
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, name, l) == 0 && (*e)[l] == '=')
			return *e + l + 1;
	return NULL;
}

/* strerror names the error by its number: "errno 11". */
char *strerror(int e)
{
	static char msg[24] = "errno ";
	size_t k = 6;
	char num[12];
	size_t n = 0;
	unsigned v = e < 0 ? (unsigned)-e : (unsigned)e;
	do {
		num[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		msg[k++] = num[--n];
	msg[k] = 0;
	return msg;
}

/*
 * gmtime_r is the UTC calendar time of *t (Howard Hinnant's
 * civil_from_days); only the fields berth-idle formats.
 */
struct tm *gmtime_r(const time_t *restrict t, struct tm *restrict tm)
{
	long long s = *t, days = s / 86400, rem = s % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	tm->tm_hour = (int)(rem / 3600);
	tm->tm_min = (int)(rem / 60 % 60);
	tm->tm_sec = (int)(rem % 60);
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	long long d = doy - (153 * mp + 2) / 5 + 1;
	long long m = mp < 10 ? mp + 3 : mp - 9;
	tm->tm_year = (int)(yoe + era * 400 + (m <= 2) - 1900);
	tm->tm_mon = (int)m - 1;
	tm->tm_mday = (int)d;
	return tm;
}

/* strftime formats "%Y-%m-%dT%H:%M:%S", the one format berth-idle uses. */
size_t strftime(char *restrict p, size_t max, const char *restrict fmt, const struct tm *restrict tm)
{
	(void)fmt;
	int v[6] = {tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec};
	static const char sep[] = "--T::";
	size_t n = 0;
	if (max < 20)
		return 0;
	for (int i = 0; i < 6; i++) {
		int w = i == 0 ? 4 : 2, x = v[i];
		for (int k = w - 1; k >= 0; k--, x /= 10)
			p[n + (size_t)k] = (char)('0' + x % 10);
		n += (size_t)w;
		if (i < 5)
			p[n++] = sep[i];
	}
	p[n] = 0;
	return n;
}

int main(int argc, char **argv);

__attribute__((used)) void start_c(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	environ = argv + argc + 1;
	_exit(main(argc, argv));
}
