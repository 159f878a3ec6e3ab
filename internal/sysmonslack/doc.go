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
// containers made 14,000-17,000 nanosleeps, and on this virtual machine
// each costs ~24 µs of CPU (the timer, the switch to the thread and back). That
// was a tenth of the whole start's CPU.
//
// A thread's timer slack (PR_SET_TIMERSLACK) lets the kernel fire its
// timers up to that late, and a new thread inherits its creator's. The
// runtime's first thread, which runtime.main makes before anything else,
// is sysmon: a wrapper around pthread_create, through which the runtime
// makes each of its threads when cgo is in, gives the main thread a 5 ms
// slack for the making of that thread alone. Any thread that sysmon
// itself makes, to run a P it took back, is made with the slack the
// process started with. So only sysmon sleeps with the slack: every other
// thread, and every process they start (a container's workload among
// them), keeps the slack berth was started with, and the default slack it
// would get back by asking for 0. Nothing is set before the runtime
// starts, when runc's nsexec clones a container's init.
//
// The price: sysmon's duties wait up to 5 ms longer. A P held by a
// goroutine in a long system call is taken back for goroutines that wait
// to run after up to ~5 ms instead of ~20 µs (when another P is idle,
// the runtime hands them to it without sysmon); a goroutine running for
// 10 ms is preempted up to 5 ms later; the network is polled up to 5 ms
// later when no thread polls it. berth's processes wait on the kernel
// with a P idle nearly always, or (a container's init, GOMAXPROCS 1) with
// one goroutine that matters, and the measured starts below are faster
// for it.
//
// A cold `up -d` of 50 sleepers: ~17,000 -> ~1,500 nanosleeps and
// ~45,000 -> ~14,700 context switches (perf stat, two runs each); 3.27 ->
// 2.65 CPU-s and 1.66 -> 1.41 s (bench/compare.sh medians).
package sysmonslack
