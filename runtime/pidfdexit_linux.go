package runtime

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A supervisor that is not its init's parent (a container started by the
// starter: see starter_linux.go) learns the init's exit through a pidfd
// opened while the init lived: it polls readable at the exit, and once
// the init is reaped (by the starter, or by the reaper it is reparented
// to), PIDFD_GET_INFO with PIDFD_INFO_EXIT gives the exit status (Linux
// 6.15 and later).

// exitInfoOnce caches exitInfoSupported's probe.
var exitInfoOnce = sync.OnceValue(func() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	info := unix.PidfdInfo{Mask: unix.PIDFD_INFO_EXIT}
	return unix.IoctlPidfdInfo(fd, &info) == nil
})

// exitInfoSupported reports whether the kernel gives a process's exit
// status through its pidfd to a process that is not its parent.
func exitInfoSupported() bool { return exitInfoOnce() }

// pidfdExitStatus is the exit status of the reaped process of pidfd; ok
// is false while it is not reaped.
func pidfdExitStatus(pidfd int) (ws syscall.WaitStatus, ok bool, err error) {
	info := unix.PidfdInfo{Mask: unix.PIDFD_INFO_EXIT}
	if err := unix.IoctlPidfdInfo(pidfd, &info); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return 0, false, nil // exited, its status not in yet
		}
		return 0, false, fmt.Errorf("reading the exit through the pidfd: %w", err)
	}
	if info.Mask&unix.PIDFD_INFO_EXIT == 0 {
		return 0, false, nil
	}
	return syscall.WaitStatus(info.Exit_code), true, nil
}

// pidfdExited reports whether the process of pidfd has exited, reaped or
// not, without waiting.
func pidfdExited(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}

// Exit-status polling after the exit, until the reap.
const (
	reapPollFirst = time.Millisecond
	reapPollMax   = 50 * time.Millisecond
	// reapPatience bounds the wait for the reap: a reaper gone, the
	// kernel's init reaps, which PID 1 in a container or a VM may do
	// late; past it the exit counts as code 255.
	reapPatience = 30 * time.Second
)

// awaitExitInfo waits, in the poller, for the process of the
// non-blocking pidfd to exit, then for its reap, and returns its exit
// status.
func awaitExitInfo(pidfd *os.File) (syscall.WaitStatus, error) {
	rc, err := pidfd.SyscallConn()
	if err != nil {
		return 0, err
	}
	var fd int
	// The poller is edge-triggered: the check runs before each wait, and
	// the exit makes the pidfd readable once.
	_ = rc.Read(func(f uintptr) bool { fd = int(f); return pidfdExited(fd) })
	wait := reapPollFirst
	deadline := time.Now().Add(reapPatience)
	for {
		var ws syscall.WaitStatus
		var ok bool
		cerr := rc.Control(func(f uintptr) { ws, ok, err = pidfdExitStatus(int(f)) })
		if cerr != nil {
			return 0, cerr
		}
		if err != nil || ok {
			return ws, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the exited init was not reaped within %v", reapPatience)
		}
		time.Sleep(wait)
		wait = min(2*wait, reapPollMax)
	}
}
