package network

import (
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
		return nil, fmt.Errorf("opening the network namespace of process %d: %w", pid, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("opening socket diagnostics in the network namespace of process %d: %w", pid, err)
	}
	defer h.Close()
	var out []Socket
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		socks, err := retryDump(func() ([]*netlink.Socket, error) { return h.SocketDiagTCP(family) })
		if err != nil {
			return nil, fmt.Errorf("listing the TCP sockets (family %d) of process %d: %w", family, pid, err)
		}
		for _, s := range socks {
			out = append(out, Socket{LocalPort: uint64(s.ID.SourcePort), State: uint64(s.State)})
		}
	}
	return out, nil
}
