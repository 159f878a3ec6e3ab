package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// A shim holds an exclusive flock on its container directory for its whole
// life. The kernel drops the lock when the shim dies, however it dies, so
// the lock is the truth about whether a shim is alive; a pid could be reused.

// lockDir takes the shim lock on dir, waiting while another holder has
// it, up to lockWait: a probe holds it for microseconds and a shim ending
// its run for moments, but a supervisor holds it for its container's
// whole run (another berth's start of the same container, that berth
// killed after asking: see Runtime.run). The returned file holds the lock
// until closed.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	fd := int(f.Fd())
	for deadline := time.Now().Add(lockWait); ; time.Sleep(time.Millisecond) {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		err = errors.New("another supervisor holds it")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return f, nil
}

// lockWait is how long lockDir waits for the lock.
var lockWait = 10 * time.Second

// shimAlive reports whether a shim holds the lock on dir.
func shimAlive(dir string) bool {
	alive, _ := probeLock(dir)
	return alive
}

// probeLock reports whether a shim holds the lock on dir, or why dir
// cannot be opened (fs.ErrNotExist: there is no container). It opens dir
// bare, not as an os.File (see readFile), and only for the probe.
func probeLock(dir string) (bool, error) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return false, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	return errors.Is(unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB), unix.EWOULDBLOCK), nil
}

// waitUnlocked waits until no shim holds the lock on dir: it blocks in
// flock, which the kernel ends as the shim's lock goes, rather than
// polling. A directory that is gone has no shim.
func waitUnlocked(ctx context.Context, dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	got := make(chan error, 1)
	go func() {
		// Left blocked when ctx ends first: it takes the lock, drops it
		// and closes the file once the shim is gone.
		defer f.Close()
		err := retryEINTR(func() error { return unix.Flock(int(f.Fd()), unix.LOCK_SH) })
		if err == nil {
			_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			return fmt.Errorf("waiting for the lock on %s: %w", dir, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryEINTR calls fn again while it is interrupted by a signal.
func retryEINTR(fn func() error) error {
	for {
		if err := fn(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
