// The Go runtime's sysmon thread, slowed by a timer slack: see doc.go.

//go:build linux && cgo

#include <pthread.h>
#include <sys/prctl.h>

// SYSMON_SLACK is sysmon's timer slack in nanoseconds: half the longest
// sleep sysmon takes on its own (10 ms).
#define SYSMON_SLACK 5000000UL

// inherited is the slack of the thread that made the process's first
// thread (the main thread, from runtime.main): the slack the process
// started with.
static unsigned long inherited;

// state: 0 until the process's first thread is made; 1 after, when that
// thread (sysmon) got SYSMON_SLACK; 2 when it did not (the slack could
// not be read or set, or was already as large), and threads are left
// alone.
static int state;

int __real_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

// made_with makes a thread while the calling thread's slack is slack, so
// that the new thread inherits it, and gives the caller back cur.
static int made_with(unsigned long slack, unsigned long cur, pthread_t *thread, const pthread_attr_t *attr,
		     void *(*start)(void *), void *arg)
{
	int r;

	prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
	r = __real_pthread_create(thread, attr, start, arg);
	prctl(PR_SET_TIMERSLACK, cur, 0, 0, 0);
	return r;
}

// __wrap_pthread_create stands for pthread_create in the whole program
// (-Wl,--wrap=pthread_create). The Go runtime's first thread, which
// runtime.main makes before anything else, is sysmon: it is made while
// the main thread has SYSMON_SLACK for that call alone, so that it alone
// inherits it. Every later thread is made with the inherited slack,
// sysmon's own (for the Ps it takes back) included. Only a thread's
// current slack is set around the call, never before the runtime starts:
// a process cloned meanwhile (runc's nsexec, in a container's init) would
// take a 5 ms default slack (PR_SET_TIMERSLACK 0) with it, to the
// container's workload.
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
	int cur;

	if (state == 2)
		return __real_pthread_create(thread, attr, start, arg);
	cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (state == 0) {
		// One thread so far: no other sees state change.
		if (cur < 0 || (unsigned long)cur >= SYSMON_SLACK) {
			state = 2;
			return __real_pthread_create(thread, attr, start, arg);
		}
		inherited = (unsigned long)cur;
		state = 1;
		return made_with(SYSMON_SLACK, inherited, thread, attr, start, arg);
	}
	if (cur < 0 || (unsigned long)cur == inherited)
		return __real_pthread_create(thread, attr, start, arg);
	return made_with(inherited, (unsigned long)cur, thread, attr, start, arg); // sysmon makes a thread
}
