package engine

import (
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
)

// limits are the runtime's cgroup limits of a service's containers; nil
// for none.
func limits(r *spec.Resources) *runtime.Resources {
	if r == nil {
		return nil
	}
	return &runtime.Resources{NanoCPUs: r.NanoCPUs, CPUShares: r.CPUShares, CPUQuota: r.CPUQuota, CPUPeriod: r.CPUPeriod,
		CPUSet: r.CPUSet, Memory: r.Memory, MemoryReservation: r.MemoryReservation, MemorySwap: r.MemorySwap,
		MemorySwappiness: r.MemorySwappiness, PidsLimit: r.PidsLimit, BlkioWeight: r.BlkioWeight}
}
