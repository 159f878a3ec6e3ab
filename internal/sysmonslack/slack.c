// The Go runtime's sysmon thread, slowed by a timer slack: see doc.go.

//go:build linux && cgo

#include <pthread.h>
#include <sys/prctl.h>

// SYSMON_SLACK is sysmon's timer slack in nanoseconds: half the longest
// sleep sysmon takes on its own (10 ms).
#define SYSMON_SLACK 5000000UL

// inherited is the timer slack the process started with.
static unsigned long inherited;

// state: 0 leaves threads alone (the slack could not be read or set, or
// was already as large); 1 from the constructor until the runtime's first
// thread, sysmon, is made; 2 after.
static int state;

// sysmonslack_arm gives the main thread sysmon's slack before the Go
// runtime starts, so that the runtime's first thread inherits it.
__attribute__((constructor)) static void sysmonslack_arm(void)
{
	int s = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);

	if (s < 0 || (unsigned long)s >= SYSMON_SLACK)
		return;
	inherited = s;
	if (prctl(PR_SET_TIMERSLACK, SYSMON_SLACK, 0, 0, 0) == 0)
		state = 1;
}

int __real_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

// __wrap_pthread_create stands for pthread_create in the whole program
// (-Wl,--wrap=pthread_create): it hands sysmon's slack to the runtime's
// first thread only, and the inherited slack to every thread made after,
// sysmon's own included.
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
	int r, cur;

	switch (state) {
	case 0:
		return __real_pthread_create(thread, attr, start, arg);
	case 1:
		// The process has one thread until this one is made, so no
		// other can see state change.
		state = 2;
		r = __real_pthread_create(thread, attr, start, arg);
		prctl(PR_SET_TIMERSLACK, inherited, 0, 0, 0);
		return r;
	}
	cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (cur < 0 || (unsigned long)cur == inherited)
		return __real_pthread_create(thread, attr, start, arg);
	// sysmon makes a thread for a P it took back.
	prctl(PR_SET_TIMERSLACK, inherited, 0, 0, 0);
	r = __real_pthread_create(thread, attr, start, arg);
	prctl(PR_SET_TIMERSLACK, cur, 0, 0, 0);
	return r;
}
