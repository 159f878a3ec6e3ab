// Command probe reports, as JSON on stdout, the timer slack of a program
// built with sysmonslack: its main thread's, other threads', a thread made
// by a thread of another slack (as sysmon makes them), a child process's,
// and how often the threads other than a busy one woke while it made
// system calls (sysmon's rounds). With the argument "child" it prints its
// own main thread's slack.
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

	"golang.org/x/sys/unix"

	_ "github.com/berth-dev/berth/internal/sysmonslack"
)

// report is what the probe prints.
type report struct {
	Main      int   // the main thread's slack
	Threads   []int // slack of goroutines locked to threads of their own
	Made      int   // a thread made by a thread of a 7 ms slack
	Children  []int // the children's main threads' slack
	BusyCalls int   // system calls made by the busy thread
	Wakes     int   // voluntary switches of the other threads meanwhile
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		fmt.Println(mainSlack())
		return
	}
	var r report
	r.Main = mainSlack()
	r.BusyCalls, r.Wakes = busy()
	r.Threads = onThreads(8, func() int { s, _ := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); return s })
	r.Made = onThreads(1, func() int { return int(C.made_with_slack(7000000)) })[0]
	r.Children = onThreads(4, child)
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
func onThreads(n int, f func() int) []int {
	out := make([]int, n)
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

// child is the main thread's slack of this program started again.
func child() int {
	out, err := exec.Command("/proc/self/exe", "child").Output()
	if err != nil {
		panic(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		panic(err)
	}
	return n
}

// busy makes 1000 sleeps of 100 µs as system calls that keep the only P,
// which sysmon takes back each time, and counts the voluntary switches of
// the process's other threads meanwhile: sysmon's rounds, mostly.
func busy() (calls, wakes int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := unix.Gettid()
	before := switches(self)
	ts := unix.Timespec{Nsec: 100_000}
	for range 1000 {
		unix.Nanosleep(&ts, nil)
		calls++
	}
	after := switches(self)
	for tid, n := range after {
		wakes += n - before[tid]
	}
	return calls, wakes
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
