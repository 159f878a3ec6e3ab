/*
 * berth-idle is a container's shim while nothing needs it (issue 15:
 * memory per container). The Go shim (berth-runtime shim) execs it in
 * place, same pid, the container's init still its child, when no client
 * is connected and nothing is due; it does only what waiting takes and
 * keeps no state of its own:
 *
 *   - it appends the container's output to its json-file log, entry for
 *     entry as the Go shim writes them (runtime/logwriter.go: a line, or
 *     16 KiB of one, or a partial line idle for 100 ms; encoded as Go's
 *     encoding/json encodes a string; the time as RFC 3339 with
 *     nanoseconds, in UTC);
 *   - a drop request (the container is removed next, with no grace: see
 *     Runtime.Drop) it serves itself: the stop signal, SIGKILL, the
 *     output logged to its end (a partial line too), the init reaped, the
 *     exit code answered, and it exits, leaving the rest of
 *     the container's end (its events, its destruction) to the caller;
 *   - on anything else it execs the Go shim back, through the descriptor
 *     of its binary, which takes over from its handoff as after a start:
 *     a client connecting on the control socket, the init exiting (not
 *     reaped here: the Go shim waits for it and records the exit), an
 *     output closing, the log due to rotate, an OOM kill, the due time.
 *
 * Usage (from runtime/shimidle_linux.go, never by hand): its arguments
 * are the Go shim's (so that the process looks the same to whoever looks
 * for shims), its own are in the environment, one a line:
 *   BERTH_IDLE_ARGS="listen=FD exe=FD pid=PID [log=FD] [maxsize=N]
 *                    [due=MS] [oom=DIR] [stopsig=N] [out=STREAM:FD]..."
 * The wake is told through the environment, BERTH_IDLE_WAKE=FD: a memfd
 * holding "REASON\n" then, per output, "STREAM LEN\n" and LEN bytes of
 * output read but not yet logged.
 *
 * With pidfd=FD the init is not its child (a container the starter
 * started: runtime/starter_linux.go): it watches the init through that
 * pidfd, signals it through it, and reads its exit status through it
 * (PIDFD_GET_INFO, Linux 6.15) once the init's parent or reaper reaped
 * it. The pidfd stays open for the Go shim a wake execs.
 *
 * "berth-idle --reap PATH ARGV0 ARG..." is the reaper of a starter
 * instead: a child subreaper that runs PATH as its child and reaps what
 * is reparented to it (the inits the starter started, their supervisors)
 * until none is left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXLINE (16 << 10) /* logMaxLine */
#define FLUSH_NS 100000000LL /* idleFlush */
#define DRAIN_NS 2000000000LL /* drainGrace */
#define MAXOUT 2
#define ARGSENV "BERTH_IDLE_ARGS"

extern char **environ;

struct out {
	const char *stream;
	int fd;
	char buf[MAXLINE];
	int n;
	long long deadline; /* monotonic ns, 0: none */
};

static struct out outs[MAXOUT];
static int nouts;
static int logfd = -1;
static long long logsize, maxsize = -1;
static int exefd = -1;
static int oomfd = -1;
/* Connections accepted, their request not read yet. */
#define MAXCONN 8
static struct conn {
	int fd;
	long long deadline;
} conns[MAXCONN + 1];
static int nconns;
static char **shimargv;
/* An encoded entry: at most 6 bytes per byte of text and the frame. */
static char line[6 * MAXLINE + 128];

static void say(const char *a, const char *b)
{
	(void)!write(2, "berth-idle: ", 12);
	(void)!write(2, a, strlen(a));
	if (b) {
		(void)!write(2, ": ", 2);
		(void)!write(2, b, strlen(b));
	}
	(void)!write(2, "\n", 1);
}

/*
 * now reads a clock by the system call: the vDSO is unmapped (dropvdso),
 * and libc's clock_gettime would call into it.
 */
static void now(clockid_t clock, struct timespec *ts)
{
	syscall(SYS_clock_gettime, clock, ts);
}

static long long mono(void)
{
	struct timespec ts;
	now(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int writeall(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* putnum writes v in decimal at p; it returns the length. */
static size_t putnum(char *p, long long v)
{
	char num[24];
	size_t k = 0, l = 0;
	do {
		num[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (k > 0)
		p[l++] = num[--k];
	return l;
}

/*
 * wake execs the Go shim back, telling it why (and whether the OOM
 * killer struck meanwhile), the connections it has to answer, and the
 * output it has to log.
 */
static void wake(const char *reason)
{
	int mfd = memfd_create("berth-idle-wake", 0);
	if (mfd < 0) {
		say("memfd_create", strerror(errno));
		_exit(1);
	}
	char hdr[64];
	uint64_t ooms = 0;
	if (writeall(mfd, reason, strlen(reason)) < 0)
		goto fail;
	if (oomfd >= 0 && strcmp(reason, "oom") != 0 && read(oomfd, &ooms, sizeof ooms) == sizeof ooms && ooms > 0 &&
	    writeall(mfd, " oom", 4) < 0)
		goto fail;
	if (writeall(mfd, "\nconns", 6) < 0)
		goto fail;
	for (int i = 0; i < nconns; i++) {
		hdr[0] = ' ';
		fcntl(conns[i].fd, F_SETFD, 0); /* the Go shim's to answer */
		if (writeall(mfd, hdr, 1 + putnum(hdr + 1, conns[i].fd)) < 0)
			goto fail;
	}
	if (writeall(mfd, "\n", 1) < 0)
		goto fail;
	for (int i = 0; i < nouts; i++) {
		size_t sl = strlen(outs[i].stream);
		memcpy(hdr, outs[i].stream, sl);
		hdr[sl++] = ' ';
		sl += putnum(hdr + sl, outs[i].n);
		hdr[sl++] = '\n';
		if (writeall(mfd, hdr, sl) < 0 || writeall(mfd, outs[i].buf, (size_t)outs[i].n) < 0)
			goto fail;
	}
	char env[48] = "BERTH_IDLE_WAKE=";
	env[16 + putnum(env + 16, mfd)] = 0;
	int n = 0;
	while (environ[n])
		n++;
	{
		char *envp[n + 2]; /* on the stack: nothing here allocates */
		envp[0] = env;
		n = 1;
		for (char **e = environ; *e; e++)
			if (strncmp(*e, ARGSENV "=", sizeof ARGSENV) != 0)
				envp[n++] = *e;
		envp[n] = NULL;
		syscall(SYS_execveat, exefd, "", shimargv, envp, AT_EMPTY_PATH);
	}
	say("exec the shim back", strerror(errno));
	_exit(1);
fail:
	say("writing the wake", strerror(errno));
	_exit(1);
}

/* rfc3339nano appends the time now as Go's time.RFC3339Nano in UTC. */
static size_t rfc3339nano(char *p)
{
	struct timespec ts;
	struct tm tm;
	now(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(p, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	if (ts.tv_nsec > 0) {
		char frac[10];
		long v = ts.tv_nsec;
		for (int i = 8; i >= 0; i--) {
			frac[i] = (char)('0' + v % 10);
			v /= 10;
		}
		int l = 9;
		while (frac[l - 1] == '0')
			l--;
		p[n++] = '.';
		memcpy(p + n, frac, (size_t)l);
		n += (size_t)l;
	}
	p[n++] = 'Z';
	return n;
}

/*
 * utf8len is the length of the valid UTF-8 sequence at s (of n bytes), 0
 * when it is not one: Go's utf8.DecodeRune (no surrogates, no overlong
 * forms, nothing above U+10FFFF). *r is the rune.
 */
static int utf8len(const unsigned char *s, int n, unsigned *r)
{
	unsigned c = s[0];
	int l;
	unsigned lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		l = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		l = 3;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		l = 4;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < l || s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < l; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	unsigned v = c & (0xFF >> (l + 1));
	for (int i = 1; i < l; i++)
		v = v << 6 | (s[i] & 0x3F);
	*r = v;
	return l;
}

/* jsonstr appends text as encoding/json encodes a string (HTML-safe). */
static size_t jsonstr(char *p, const unsigned char *s, int n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	p[o++] = '"';
	for (int i = 0; i < n;) {
		unsigned c = s[i];
		if (c < 0x80) {
			if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
				p[o++] = (char)c;
			} else {
				p[o++] = '\\';
				switch (c) {
				case '"': case '\\': p[o++] = (char)c; break;
				case '\b': p[o++] = 'b'; break;
				case '\f': p[o++] = 'f'; break;
				case '\n': p[o++] = 'n'; break;
				case '\r': p[o++] = 'r'; break;
				case '\t': p[o++] = 't'; break;
				default:
					p[o++] = 'u';
					p[o++] = '0';
					p[o++] = '0';
					p[o++] = hex[c >> 4];
					p[o++] = hex[c & 0xF];
				}
			}
			i++;
			continue;
		}
		unsigned r;
		int l = utf8len(s + i, n - i, &r);
		if (l == 0) {
			memcpy(p + o, "\\ufffd", 6);
			o += 6;
			i++;
			continue;
		}
		if (r == 0x2028 || r == 0x2029) {
			memcpy(p + o, r == 0x2028 ? "\\u2028" : "\\u2029", 6);
			o += 6;
		} else {
			memcpy(p + o, s + i, (size_t)l);
			o += (size_t)l;
		}
		i += l;
	}
	p[o++] = '"';
	return o;
}

/*
 * entry logs text (n bytes) of o; it returns -1 when the log is due to
 * rotate first, which the Go shim does.
 */
static int entry(struct out *o, const char *text, int n)
{
	if (logfd < 0)
		return 0; /* driver none */
	size_t l = 0;
	memcpy(line, "{\"log\":", 7);
	l = 7;
	l += jsonstr(line + l, (const unsigned char *)text, n);
	memcpy(line + l, ",\"stream\":", 10);
	l += 10;
	l += jsonstr(line + l, (const unsigned char *)o->stream, (int)strlen(o->stream));
	memcpy(line + l, ",\"time\":\"", 9);
	l += 9;
	l += rfc3339nano(line + l);
	memcpy(line + l, "\"}\n", 3);
	l += 3;
	if (maxsize > 0 && logsize > 0 && logsize + (long long)l > maxsize)
		return -1;
	/* One write, as the Go shim's, so that a reader sees whole entries. */
	ssize_t w = write(logfd, line, l);
	if (w > 0)
		logsize += w;
	if (w != (ssize_t)l) {
		say("writing the log", w < 0 ? strerror(errno) : "short write");
		wake("log-error");
	}
	return 0;
}

/*
 * logged writes o's whole lines and, with flush or a full buffer, the
 * rest; as runtime/logwriter.go's copyFrom. It wakes the Go shim when the
 * log is due to rotate, what is not logged yet handed over.
 */
static void logged(struct out *o, int flush)
{
	int p = 0;
	for (;;) {
		char *nl = memchr(o->buf + p, '\n', (size_t)(o->n - p));
		if (!nl)
			break;
		int k = (int)(nl - o->buf) + 1;
		if (entry(o, o->buf + p, k - p) < 0)
			break;
		p = k;
	}
	memmove(o->buf, o->buf + p, (size_t)(o->n - p));
	o->n -= p;
	if (memchr(o->buf, '\n', (size_t)o->n))
		wake("rotate"); /* a whole line left: the log is full */
	if (o->n > 0 && (flush || o->n == MAXLINE)) {
		if (entry(o, o->buf, o->n) < 0)
			wake("rotate");
		o->n = 0;
	}
}

/* readout reads what o has, as one read of copyFrom. */
static void readout(struct out *o)
{
	ssize_t m = read(o->fd, o->buf + o->n, (size_t)(MAXLINE - o->n));
	if (m < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (m <= 0) /* its end (EIO: a terminal whose other side is gone) */
		wake("eof");
	o->n += (int)m;
	logged(o, 0);
	o->deadline = o->n > 0 ? mono() + FLUSH_NS : 0;
}

static int opt(const char *arg, const char *key, const char **val)
{
	size_t l = strlen(key);
	if (strncmp(arg, key, l) == 0 && arg[l] == '=') {
		*val = arg + l + 1;
		return 1;
	}
	return 0;
}

/* watchoom registers an eventfd for the OOM kills of the v1 memory cgroup dir. */
static int watchoom(const char *dir)
{
	char path[4096];
	size_t dl = strlen(dir);
	if (dl + 32 > sizeof path)
		return -1;
	memcpy(path, dir, dl);
	strcpy(path + dl, "/memory.oom_control");
	int ctl = open(path, O_RDONLY | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0) {
		close(ctl);
		return -1;
	}
	strcpy(path + dl, "/cgroup.event_control");
	int ec = open(path, O_WRONLY | O_CLOEXEC);
	if (ec < 0) {
		close(ctl);
		close(efd);
		return -1;
	}
	char msg[64];
	size_t l = putnum(msg, efd);
	msg[l++] = ' ';
	l += putnum(msg + l, ctl);
	int ok = write(ec, msg, l) == (ssize_t)l;
	close(ec);
	/* ctl stays open: the registration lasts while it does. */
	if (!ok) {
		close(ctl);
		close(efd);
		return -1;
	}
	return efd;
}

enum { T_LISTEN = 1000, T_PID, T_OOM, T_CONN = 1 << 20 };

/* The requests served here, as the Go client encodes them. */
static const char statereq[] = "{\"op\":\"state\"}\n";
static const char dropreq[] = "{\"op\":\"drop\"}\n";
static const char *stateresp; /* the Go shim's answer to state, "" for none */
static int initpid = -1;      /* the container's init, our child */
static int initpidfd = -1;    /* its pidfd given (pidfd=): the init is not our child */
static int stopsig = SIGTERM; /* the container's stop signal */
static const char *lean;      /* its cgroup paths as JSON, for a drop's answer */
static long long owner = -1;  /* the uid let through besides root */
static int listenfd = -1;

/* addconn keeps c for its request; it wakes the shim when full. */
static void addconn(int ep, int c)
{
	conns[nconns].fd = c;
	conns[nconns].deadline = mono() + 1000000000LL; /* a slow client: the Go shim's */
	nconns++;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	ev.data.u32 = (uint32_t)(T_CONN + c);
	if (!stateresp || nconns > MAXCONN || epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
		wake("conn");
}

/* dropconn forgets connection i, closed. */
static void dropconn(int i)
{
	close(conns[i].fd);
	conns[i] = conns[--nconns];
}

/* acceptconns takes the connections waiting, of root or the owner only. */
static void acceptconns(int ep)
{
	for (;;) {
		int c = accept4(listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			say("accept", strerror(errno));
			wake("conn");
		}
		struct ucred cred;
		socklen_t cl = sizeof cred;
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || (cred.uid != 0 && (long long)cred.uid != owner)) {
			close(c);
			continue;
		}
		addconn(ep, c);
	}
}

/*
 * match says whether the n bytes at buf are all of request req (1), the
 * start of it (0) or something else (-1).
 */
static int match(const char *buf, size_t n, const char *req)
{
	size_t want = strlen(req);
	if (n > want || memcmp(buf, req, n) != 0)
		return -1;
	return n == want;
}

/*
 * drainouts logs what the container wrote up to its outputs' end, partial
 * lines included, as the Go shim's copies do before an exit is recorded;
 * for at most DRAIN_NS, as a process outside the container's namespaces
 * may hold an output open. The log due to rotate wakes the Go shim.
 */
static void drainouts(void)
{
	struct pollfd pfd[MAXOUT];
	int open = nouts;
	long long end = mono() + DRAIN_NS;
	for (int i = 0; i < nouts; i++)
		pfd[i] = (struct pollfd){.fd = outs[i].fd, .events = POLLIN};
	while (open > 0) {
		long long left = end - mono();
		if (left <= 0)
			break;
		int n = poll(pfd, (nfds_t)nouts, (int)((left + 999999) / 1000000));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (int i = 0; i < nouts; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			struct out *o = &outs[i];
			ssize_t m = read(o->fd, o->buf + o->n, (size_t)(MAXLINE - o->n));
			if (m < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (m <= 0) { /* its end (EIO: a terminal whose other side is gone) */
				pfd[i].fd = -1;
				open--;
				continue;
			}
			o->n += (int)m;
			logged(o, 0);
		}
	}
	for (int i = 0; i < nouts; i++)
		logged(&outs[i], 1);
}

/* signalinit sends sig to the init: by pid to our unreaped child (its pid
 * is its own), through its pidfd to a non-child. */
static void signalinit(int sig)
{
	if (initpidfd < 0)
		kill(initpid, sig);
	else
		syscall(SYS_pidfd_send_signal, initpidfd, sig, NULL, 0);
}

/* struct pidfd_info of Linux 6.15 (72 bytes), for PIDFD_GET_INFO. */
struct pidfdinfo {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO_ 0xc048ff0bU
#define PIDFD_INFO_EXIT_ 0x8ULL

/*
 * waitinit waits for the init's exit and puts its wait status in *status:
 * it reaps our child; for a non-child it waits for the exit, then for the
 * status, which comes once its parent or reaper reaped it (polled, from
 * 1 to 50 ms, for at most 30 s). -1 with errno when it cannot.
 */
static int waitinit(int *status)
{
	if (initpidfd < 0) {
		while (waitpid(initpid, status, 0) < 0)
			if (errno != EINTR)
				return -1;
		return 0;
	}
	struct pollfd p = {.fd = initpidfd, .events = POLLIN};
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return -1;
	long long wait = 1000000LL, end = mono() + 30000000000LL;
	for (;;) {
		struct pidfdinfo info = {.mask = PIDFD_INFO_EXIT_};
		if (ioctl(initpidfd, PIDFD_GET_INFO_, &info) < 0) {
			if (errno != ESRCH) /* ESRCH: gone, its status not in yet */
				return -1;
		} else if (info.mask & PIDFD_INFO_EXIT_) {
			*status = info.exit_code;
			return 0;
		}
		if (mono() > end) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct timespec ts = {0, wait};
		nanosleep(&ts, NULL);
		wait = wait * 2 > 50000000LL ? 50000000LL : wait * 2;
	}
}

/*
 * reap is the reaper of a starter (see the top): it runs path with argv
 * as its child, lets go of every descriptor but its output (its caller
 * waits for the starter's end of the channel to close), and reaps until
 * it has no child left.
 */
static int reap(const char *path, char **argv)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		say("becoming a subreaper", strerror(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		say("fork", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execv(path, argv);
		say(path, strerror(errno));
		_exit(127);
	}
	syscall(SYS_close_range, 3U, ~0U, 0U);
	for (;;) {
		siginfo_t si;
		if (waitid(P_ALL, 0, &si, WEXITED) < 0 && errno != EINTR) {
			if (errno == ECHILD)
				return 0;
			say("waitid", strerror(errno));
			return 1;
		}
	}
}

/*
 * drop serves a drop request on connection i: the stop signal (as a stop
 * with no grace sends it first), SIGKILL, the output logged to its end,
 * the init reaped; then the answer, with the signal and the exit code,
 * and the shim's end. The container is not paused when the caller asks
 * (it reads the state the Go shim published: it is running), so the kill
 * takes effect at once.
 */
static void drop(int i)
{
	if (stopsig > 0 && stopsig != SIGKILL)
		signalinit(stopsig);
	signalinit(SIGKILL);
	/* Before the request is read and the init reaped: a log due to
	 * rotate meanwhile wakes the Go shim, which serves the drop. */
	drainouts();
	char buf[sizeof dropreq];
	(void)!recv(conns[i].fd, buf, sizeof dropreq - 1, 0);
	int status = 0;
	if (waitinit(&status) < 0) {
		say("reaping the init", strerror(errno));
		/* Its request read, the connection would wait on the Go
		 * shim for one: closed, the caller halts as Halt does. */
		dropconn(i);
		wake("exit"); /* the Go shim finds out */
	}
	int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	char resp[96] = "{\"dropped\":{\"signal\":";
	size_t l = strlen(resp);
	l += putnum(resp + l, stopsig > 0 ? stopsig : SIGKILL);
	memcpy(resp + l, ",\"exit_code\":", 13);
	l += 13;
	l += putnum(resp + l, code);
	/* As json.Encoder writes it: with a newline. */
	struct iovec iov[4] = {{resp, l}, {",\"lean\":", 8}, {(void *)lean, lean ? strlen(lean) : 0}, {"}}\n", 3}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 4};
	if (!lean)
		iov[1].iov_len = 0;
	(void)!sendmsg(conns[i].fd, &msg, MSG_NOSIGNAL);
	_exit(0);
}

/*
 * readconn answers the state request on connection i with the Go shim's
 * answer and serves a drop; any other request wakes the shim, to answer
 * it.
 */
static void readconn(int i)
{
	char buf[sizeof statereq + 1];
	ssize_t n = recv(conns[i].fd, buf, sizeof buf, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* gone before asking */
		dropconn(i);
		return;
	}
	int st = match(buf, (size_t)n, statereq), dr = match(buf, (size_t)n, dropreq);
	if (st < 0 && dr < 0)
		wake("conn");
	if (dr > 0)
		drop(i);
	if (st <= 0)
		return; /* the rest to come */
	(void)!recv(conns[i].fd, buf, sizeof statereq - 1, 0);
	/* A few hundred bytes: the socket's buffer takes them at once. */
	/* As json.Encoder writes it: with a newline. */
	struct iovec iov[2] = {{(void *)stateresp, strlen(stateresp)}, {"\n", 1}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	(void)!sendmsg(conns[i].fd, &msg, MSG_NOSIGNAL);
	dropconn(i);
}

/*
 * dropvdso unmaps the vDSO and its data pages: alone in their part of the
 * address space, they cost the process three pages of page tables (12
 * kB) once touched, which libc's start-up does. Nothing here calls into
 * them after this (see now); the exec back to the shim maps them afresh.
 */
static void dropvdso(void)
{
	char maps[4096];
	size_t n = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		ssize_t r = read(fd, maps + n, sizeof maps - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	maps[n] = 0;
	/* Whole lines only: a table longer than the buffer loses its tail. */
	for (char *l = maps, *nl; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
		*nl = 0;
		if (!strstr(l, " [vdso]") && !strstr(l, " [vvar]") && !strstr(l, " [vvar_vclock]"))
			continue;
		char *end;
		unsigned long lo = strtoul(l, &end, 16);
		if (*end != '-')
			continue;
		unsigned long hi = strtoul(end + 1, NULL, 16);
		if (hi > lo)
			munmap((void *)lo, hi - lo);
	}
}

int main(int argc, char **argv)
{
	int pid = -1, bad = 0;
	long long due = -1;
	const char *v, *oomdir = NULL;
	int i;
	dropvdso();
	if (argc >= 4 && strcmp(argv[1], "--reap") == 0)
		return reap(argv[2], argv + 3);
	char *args = getenv(ARGSENV);
	if (!args) {
		say("started by hand? " ARGSENV " is not set", NULL);
		return 2;
	}
	/* Split in place: the environment is ours, and the wake drops it. */
	for (char *a = strtok(args, "\n"); a; a = strtok(NULL, "\n")) {
		if (opt(a, "listen", &v))
			listenfd = atoi(v);
		else if (opt(a, "exe", &v))
			exefd = atoi(v);
		else if (opt(a, "pid", &v))
			pid = atoi(v);
		else if (opt(a, "log", &v))
			logfd = atoi(v);
		else if (opt(a, "maxsize", &v))
			maxsize = atoll(v);
		else if (opt(a, "due", &v))
			due = mono() + atoll(v) * 1000000LL;
		else if (opt(a, "state", &v))
			stateresp = v;
		else if (opt(a, "owner", &v))
			owner = atoll(v);
		else if (opt(a, "oom", &v))
			oomdir = v;
		else if (opt(a, "stopsig", &v))
			stopsig = atoi(v);
		else if (opt(a, "lean", &v))
			lean = v;
		else if (opt(a, "pidfd", &v))
			initpidfd = atoi(v);
		else if (opt(a, "out", &v) && nouts < MAXOUT && strchr(v, ':')) {
			char *c = strchr(v, ':');
			*c = 0;
			outs[nouts].stream = v;
			outs[nouts].fd = atoi(c + 1);
			nouts++;
		} else {
			say("bad argument", a);
			bad = 1;
		}
	}
	if (exefd < 0) {
		say(ARGSENV " lacks exe=FD", NULL);
		return 2;
	}
	if (bad || listenfd < 0 || pid <= 0) {
		say(ARGSENV " lacks listen=FD or pid=PID", NULL);
		wake("error");
	}
	shimargv = argv;
	initpid = pid;
	/* The Go shim gets none of ours but the handoff's and its own. */
	fcntl(exefd, F_SETFD, FD_CLOEXEC);
	if (logfd >= 0) {
		struct stat st;
		if (fstat(logfd, &st) == 0)
			logsize = st.st_size;
		fcntl(logfd, F_SETFD, FD_CLOEXEC);
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int pidfd = initpidfd; /* that one the Go shim keeps: no FD_CLOEXEC */
	if (pidfd < 0) {
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd >= 0)
			fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	}
	if (ep < 0 || pidfd < 0) {
		say("epoll or pidfd", strerror(errno));
		wake("error");
	}
	struct epoll_event ev = {.events = EPOLLIN};
	ev.data.u32 = T_LISTEN;
	epoll_ctl(ep, EPOLL_CTL_ADD, listenfd, &ev);
	ev.data.u32 = T_PID;
	epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev);
	if (oomdir) {
		oomfd = watchoom(oomdir);
		if (oomfd >= 0) {
			ev.data.u32 = T_OOM;
			epoll_ctl(ep, EPOLL_CTL_ADD, oomfd, &ev);
		}
	}
	for (i = 0; i < nouts; i++) {
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, outs[i].fd, &ev) < 0) {
			say("watching output", strerror(errno));
			wake("error");
		}
	}
	for (;;) {
		long long now = mono(), next = due;
		for (i = 0; i < nouts; i++)
			if (outs[i].deadline && (next < 0 || outs[i].deadline < next))
				next = outs[i].deadline;
		for (i = 0; i < nconns; i++)
			if (next < 0 || conns[i].deadline < next)
				next = conns[i].deadline;
		int timeout = -1;
		if (next >= 0)
			timeout = next <= now ? 0 : (int)((next - now + 999999) / 1000000);
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, timeout);
		if (n < 0 && errno != EINTR) {
			say("epoll_wait", strerror(errno));
			wake("error");
		}
		for (int k = 0; k < n; k++) {
			uint32_t t = evs[k].data.u32;
			if (t < (uint32_t)nouts)
				readout(&outs[t]);
		}
		for (int k = 0; k < n; k++) {
			uint32_t t = evs[k].data.u32;
			if (t >= T_CONN) {
				for (i = 0; i < nconns; i++)
					if (conns[i].fd == (int)(t - T_CONN)) {
						readconn(i);
						break;
					}
				continue;
			}
			switch (t) {
			case T_LISTEN:
				acceptconns(ep);
				break;
			case T_PID:
				wake("exit");
				break;
			case T_OOM:
				wake("oom");
				break;
			}
		}
		now = mono();
		for (i = 0; i < nouts; i++)
			if (outs[i].deadline && outs[i].deadline <= now) {
				logged(&outs[i], 1);
				outs[i].deadline = 0;
			}
		if (due >= 0 && due <= now)
			wake("due");
		for (i = 0; i < nconns; i++)
			if (conns[i].deadline <= now)
				wake("conn");
	}
}
