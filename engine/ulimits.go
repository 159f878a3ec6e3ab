package engine

import (
	"fmt"

	units "github.com/docker/go-units"
	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// hostHardLimit is the hard limit berth runs with of the ulimit name
// ("nofile"): what its containers may have at most.
func hostHardLimit(name string) (uint64, error) {
	u := units.Ulimit{Name: name}
	rl, err := u.GetRlimit()
	if err != nil {
		return 0, err
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(rl.Type, &lim); err != nil {
		return 0, fmt.Errorf("reading the host's limit: %w", err)
	}
	return lim.Max, nil
}

// holdsSysResource reports whether berth may raise hard limits.
func holdsSysResource() bool {
	c, err := capability.NewPid2(0)
	if err != nil || c.Load() != nil {
		return false
	}
	return c.Get(capability.EFFECTIVE, capability.CAP_SYS_RESOURCE)
}
