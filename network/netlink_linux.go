package network

import (
	"errors"
	"fmt"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// errExist is what the kernel answers when an object being added exists.
var errExist = unix.EEXIST

// isNotFound reports whether err says a link (or address, route) is absent.
func isNotFound(err error) bool {
	var lnf netlink.LinkNotFoundError
	return errors.As(err, &lnf) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT)
}

// dumpRetries bounds how often an interrupted netlink dump is repeated.
const dumpRetries = 10

// retryDump runs a netlink dump until it is not interrupted by a
// concurrent change: an interrupted dump may miss objects, and deciding
// from it could delete or re-create something that exists.
func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	var err error
	for range dumpRetries {
		var out []T
		out, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return nil, err
}

// hostRoute is this process's route netlink socket in the host's network
// namespace, opened at its first use (always from a goroutine that never
// changed namespace: see onThreadAway) and shared by every request after:
// one socket instead of one per request. Requests on it take turns.
var hostRoute = sync.OnceValues(func() (*netlink.Handle, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening netlink: %w", err)
	}
	return h, nil
})
