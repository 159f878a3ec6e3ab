package network

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Sockets are the TCP sockets, IPv4 and IPv6, of the network namespace
// process pid is in, as the kernel's socket diagnostics dump them.
func Sockets(pid int) ([]Socket, error) {
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, fmt.Errorf("listing the sockets of process %d: %w", pid, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("listing the sockets of process %d: %w", pid, err)
	}
	defer h.Close()
	var out []Socket
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		socks, err := h.SocketDiagTCP(family)
		for try := 0; errors.Is(err, netlink.ErrDumpInterrupted) && try < 3; try++ {
			socks, err = h.SocketDiagTCP(family) // sockets came or went during the dump
		}
		if err != nil {
			return nil, fmt.Errorf("listing the sockets of process %d: %w", pid, err)
		}
		for _, s := range socks {
			out = append(out, Socket{LocalPort: uint64(s.ID.SourcePort), State: uint64(s.State)})
		}
	}
	return out, nil
}
