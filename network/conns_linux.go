package network

import (
	"fmt"
	"strconv"

	"github.com/prometheus/procfs"
)

// Sockets are the TCP sockets, IPv4 and IPv6, of the network namespace
// process pid is in.
func Sockets(pid int) ([]Socket, error) {
	fs, err := procfs.NewFS("/proc/" + strconv.Itoa(pid))
	if err != nil {
		return nil, fmt.Errorf("listing the sockets of process %d: %w", pid, err)
	}
	var out []Socket
	for _, read := range []func() (procfs.NetTCP, error){fs.NetTCP, fs.NetTCP6} {
		lines, err := read()
		if err != nil {
			return nil, fmt.Errorf("listing the sockets of process %d: %w", pid, err)
		}
		for _, l := range lines {
			out = append(out, Socket{LocalPort: l.LocalPort, State: l.St})
		}
	}
	return out, nil
}
