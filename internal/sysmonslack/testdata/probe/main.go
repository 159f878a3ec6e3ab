// Command probe reports, as JSON on stdout, the timer slack of a program
// built with sysmonslack: its main thread's, other threads', a thread made
// by a thread of another slack (as sysmon makes them), a child process's,
// and how often the threads other than a busy one woke while it made
// system calls (sysmon's rounds). With the argument "child" it prints its
// own main thread's slack, then the slack that thread gets back when it
// asks for its default (PR_SET_TIMERSLACK 0), which a process takes from
// the thread that made it.
package main

/*
#include <pthread.h>
#include <sys/prctl.h>

static void *slack_of_self(void *out)
{
	*(int *)out = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	return NULL;
}

// made_with_slack makes a thread while the calling thread has the given
// slack and returns the new thread's.
static int made_with_slack(unsigned long slack)
{
	int cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), got = -1;
	pthread_t t;

	prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
	if (pthread_create(&t, NULL, slack_of_self, &got) == 0)
		pthread_join(t, NULL);
	prctl(PR_SET_TIMERSLACK, cur, 0, 0, 0);
	return got;
}
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	_ "github.com/berth-dev/berth/internal/sysmonslack"
)

// report is what the probe prints.
type report struct {
	Main      int   // the main thread's slack
	Threads   []int // slack of goroutines locked to threads of their own
	Made      int   // a thread made by a thread of a 7 ms slack
	Children  []int // the children's main threads' slack
	Defaults  []int // the children's main threads' default slack
	BusyCalls int   // system calls made by the busy thread
	BusyMs    int   // how long they took, in milliseconds
	Wakes     int   // voluntary switches of the other threads meanwhile
}

// init runs on the main thread, which /proc/self/timerslack_ns shows.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		fmt.Println(mainSlack())
		if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 0, 0, 0, 0); err != nil {
			panic(err)
		}
		fmt.Println(mainSlack())
		os.Exit(0)
	}
}

func main() {
	var r report
	r.Main = mainSlack()
	r.BusyCalls, r.BusyMs, r.Wakes = busy()
	r.Threads = onThreads(8, func() int { s, _ := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); return s })
	r.Made = onThreads(1, func() int { return int(C.made_with_slack(7000000)) })[0]
	for _, c := range onThreads(4, child) {
		r.Children, r.Defaults = append(r.Children, c[0]), append(r.Defaults, c[1])
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

// mainSlack is the main thread's slack, as /proc shows it.
func mainSlack() int {
	b, err := os.ReadFile("/proc/self/timerslack_ns")
	if err != nil {
		panic(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		panic(err)
	}
	return n
}

// onThreads runs f in n goroutines at once, each locked to a thread that
// no other goroutine ran on, and returns what they returned.
func onThreads[T any](n int, f func() T) []T {
	out := make([]T, n)
	var wg, all sync.WaitGroup
	all.Add(n)
	for i := range n {
		wg.Go(func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			out[i] = f()
			all.Done()
			all.Wait() // hold the thread so that the others get threads of their own
		})
	}
	wg.Wait()
	return out
}

// child is the main thread's slack of this program started again, and
// its default.
func child() [2]int {
	out, err := exec.Command("/proc/self/exe", "child").Output()
	if err != nil {
		panic(err)
	}
	var got [2]int
	if _, err := fmt.Sscan(string(out), &got[0], &got[1]); err != nil {
		panic(fmt.Sprintf("%q: %v", out, err))
	}
	return got
}

// busy makes 1000 sleeps of 100 µs as system calls that keep the only P,
// which sysmon takes back each time, and counts the voluntary switches of
// the process's other threads meanwhile (sysmon's rounds, mostly) and the
// milliseconds it took.
func busy() (calls, ms, wakes int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := unix.Gettid()
	before, start := switches(self), time.Now()
	ts := unix.Timespec{Nsec: 100_000}
	for range 1000 {
		unix.Nanosleep(&ts, nil)
		calls++
	}
	ms = int(time.Since(start).Milliseconds())
	after := switches(self)
	for tid, n := range after {
		wakes += n - before[tid]
	}
	return calls, ms, wakes
}

// switches reads the voluntary context switches of each thread but skip.
func switches(skip int) map[int]int {
	m := map[int]int{}
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, p := range tasks {
		tid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if tid == skip {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "voluntary_ctxt_switches:"); ok {
				m[tid], _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
	return m
}
