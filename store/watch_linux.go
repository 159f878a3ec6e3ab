package store

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// slowPoll is how often a follower looks for new events with no wake-up:
// the only way without inotify, and a safety net with it.
const slowPoll = 2 * time.Second

// WatchEvents returns a channel that receives a value after events may
// have been recorded, by any process, until ctx is done. It watches the
// wake file with inotify and also ticks every few seconds; a burst of
// events may be one value. Call it before reading what is recorded, so
// that nothing recorded after the read goes unnoticed.
func (s *Store) WatchEvents(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	send := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	if f := s.inotify(); f != nil {
		go func() {
			<-ctx.Done()
			f.Close() // ends the Read below
		}()
		go func() {
			buf := make([]byte, 4096)
			for {
				if _, err := f.Read(buf); err != nil {
					return
				}
				send()
			}
		}()
	}
	go func() {
		t := time.NewTicker(slowPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				send()
			}
		}
	}()
	return ch
}

// inotify watches the wake file for IN_CLOSE_WRITE, creating it if need
// be; nil when that cannot be done.
func (s *Store) inotify() *os.File {
	s.touchWake()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil
	}
	if _, err := unix.InotifyAddWatch(fd, s.wake, unix.IN_CLOSE_WRITE|unix.IN_ATTRIB); err != nil {
		unix.Close(fd)
		return nil
	}
	// Non-blocking, so that the runtime's poller reads it and Close ends a Read.
	return os.NewFile(uintptr(fd), "inotify")
}
