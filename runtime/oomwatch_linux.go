package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// notifyOOMv1 calls fire at each OOM kill in the cgroup v1 memory cgroup
// dir, until the cgroup is removed. It reads its eventfd through Go's
// poller, so that no thread waits on it (libcontainer's NotifyOOM blocks
// one, for the life of the container).
func notifyOOMv1(dir string, fire func()) error {
	ctl, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		ctl.Close()
		return fmt.Errorf("watching OOM kills: %w", err)
	}
	ev := os.NewFile(uintptr(efd), "oom-eventfd")
	evControl := filepath.Join(dir, "cgroup.event_control")
	if err := os.WriteFile(evControl, fmt.Appendf(nil, "%d %d", efd, ctl.Fd()), 0o700); err != nil {
		ev.Close()
		ctl.Close()
		return fmt.Errorf("watching OOM kills: %w", err)
	}
	go func() {
		defer ctl.Close()
		defer ev.Close()
		buf := make([]byte, 8)
		for {
			if _, err := ev.Read(buf); err != nil {
				return
			}
			// The removal of the cgroup signals the eventfd too.
			if _, err := os.Lstat(evControl); errors.Is(err, os.ErrNotExist) {
				return
			}
			fire()
		}
	}()
	return nil
}
