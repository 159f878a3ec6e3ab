package network

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// HostLock is the file every berth on the host locks while it changes
// bridges or nftables rules. It is host-wide, not per state or run root:
// the bridges' isolation rules name every berth bridge there is, and the
// iptables FORWARD chain berth adds to is the host's (as iptables locks
// /run/xtables.lock).
const HostLock = "/run/berth-network.lock"

// locked runs fn holding h's own mutex and the host lock, so that no
// other goroutine or berth process changes bridges or nft rules between
// fn's read and its commit.
func (h *Host) locked(fn func() error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := os.OpenFile(h.hostLock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening the host network lock: %w", err)
	}
	defer f.Close() // releases the lock
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("locking %s: %w", h.hostLock, err)
	}
	return fn()
}
