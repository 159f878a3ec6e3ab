package engine

import (
	"errors"

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

// logConfig is the runtime's logging of a service's containers; nil for
// json-file with berth's default rotation.
func logConfig(l *spec.Logging) *runtime.LogConfig {
	if l == nil {
		return nil
	}
	return &runtime.LogConfig{Driver: l.Driver, MaxSize: l.MaxSize, MaxFiles: l.MaxFiles, Compress: l.Compress}
}

// ErrLogsNotRead is the error of logs of a container whose logging driver
// keeps nothing (none), in Docker's words.
var ErrLogsNotRead = errors.New("configured logging driver does not support reading")

// Limits are a container's cgroup limits, as inspect shows them.
type Limits = runtime.Resources

// LogConfig is a container's logging driver and rotation.
type LogConfig = runtime.LogConfig
