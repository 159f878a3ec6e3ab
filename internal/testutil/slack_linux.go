package testutil

import (
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// RunWithTimerSlack runs cmd started from a thread whose timer slack is
// slack nanoseconds (a new process takes its first thread's from the
// thread that forks it), and gives the thread its own back after.
func RunWithTimerSlack(cmd *exec.Cmd, slack int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	was, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0); err != nil {
		return err
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(was), 0, 0, 0)
	return cmd.Run()
}
