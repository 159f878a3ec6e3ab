// Package sysmonslack slows the Go runtime's sysmon thread with a timer
// slack, for the many short-lived Go processes of a container start (the
// CLI, the starter, each container's init). It is imported for its C
// side; binaries built without cgo go without it.
//
// sysmon is the runtime's monitor thread. While any of the process's
// goroutines runs or sits in a system call, it sleeps 20 µs at a time
// (nanosleep), for 50 rounds after each wake and each P it takes back from
// a system call, and only then doubles its sleep, up to 10 ms. Berth's
// processes spend most of their lives in system calls (mounts, clones,
// netlink), so their sysmons spin at 20 µs: a cold `up -d` of 50
// containers made ~13,800 nanosleeps, and on this virtual machine each
// costs ~24 µs of CPU (the timer, the switch to the thread and back). That
// was a tenth of the whole start's CPU.
//
// A thread's timer slack (PR_SET_TIMERSLACK) lets the kernel fire its
// timers up to that late, and a new thread inherits its creator's. A C
// constructor, which runs before the Go runtime starts, gives the main
// thread a 5 ms slack; the runtime's first thread, which runtime.main makes
// before anything else, is sysmon, and inherits it; the main thread then
// gets back the slack the process started with (a wrapper around
// pthread_create, through which the runtime makes each of its threads
// when cgo is in, does it). Any thread that sysmon itself makes, to run a
// P it took back, is made with the inherited slack too. So only sysmon
// sleeps with the slack: every other thread, and every process they start
// (a container's workload among them), keeps the slack berth was started
// with. 5 ms is half the longest sleep sysmon takes on its own, so none of
// its duties (taking a P back from a long system call, preempting a
// goroutine that runs 10 ms, polling the network every 10 ms) waits longer
// than it already may.
//
// A cold `up -d` of 50 sleepers: 13,200 -> 3,800 nanosleeps, 37,000 ->
// 18,900 context switches, 3.28 -> 2.52 CPU-s (interleaved means of 5).
package sysmonslack
