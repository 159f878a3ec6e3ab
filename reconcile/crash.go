package reconcile

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

// KillAfterEnv names the test hook of the crash-consistency sweep: with
// BERTH_TEST_KILL_AFTER=N, berth SIGKILLs itself as soon as the Nth action
// that changes the host has returned (the others in flight are cut short
// where they are). Every host change goes through Apply, so this one
// place reaches them all.
const KillAfterEnv = "BERTH_TEST_KILL_AFTER"

var (
	killAfter = sync.OnceValue(func() int64 {
		n, _ := strconv.ParseInt(os.Getenv(KillAfterEnv), 10, 64)
		return n
	})
	hostChanges atomic.Int64
)

// changesHost reports whether an action of kind k changes the host (a
// wait only looks).
func changesHost(k Kind) bool {
	return k != WaitExit && k != WaitHealthy && k != WaitReady
}

// hostChanged counts one host change and dies at the one the test hook names.
func hostChanged() {
	if n := killAfter(); n > 0 && hostChanges.Add(1) == n {
		p, _ := os.FindProcess(os.Getpid())
		_ = p.Kill() // SIGKILL: no deferred function, no cleanup runs
		select {}
	}
}
