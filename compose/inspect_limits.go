package compose

import (
	"strconv"

	"github.com/berth-dev/berth/engine"
)

// limitsJSON are docker inspect's HostConfig resource and logging fields.
type limitsJSON struct {
	LogConfig struct {
		Type   string
		Config map[string]string
	}
	CpuShares         int64
	Memory            int64
	NanoCpus          int64
	CpuPeriod         int64
	CpuQuota          int64
	CpusetCpus        string
	BlkioWeight       uint16
	MemoryReservation int64
	MemorySwap        int64
	MemorySwappiness  *int64
	PidsLimit         *int64
}

// dockerLimits are container d's limits and logging in docker inspect's
// words: json-file's options as its driver takes them.
func dockerLimits(d engine.ContainerDetail) limitsJSON {
	var j limitsJSON
	j.LogConfig.Type, j.LogConfig.Config = "json-file", map[string]string{}
	if l := d.Log; l != nil {
		j.LogConfig.Type = l.Driver
		if l.MaxSize > 0 {
			j.LogConfig.Config["max-size"] = strconv.FormatInt(l.MaxSize, 10)
		}
		if l.MaxFiles > 0 {
			j.LogConfig.Config["max-file"] = strconv.Itoa(l.MaxFiles)
		}
		if l.Compress != nil {
			j.LogConfig.Config["compress"] = strconv.FormatBool(*l.Compress)
		}
	}
	if r := d.Limits; r != nil {
		j.CpuShares, j.Memory, j.NanoCpus, j.CpuPeriod, j.CpuQuota = r.CPUShares, r.Memory, r.NanoCPUs, r.CPUPeriod, r.CPUQuota
		j.CpusetCpus, j.BlkioWeight, j.MemoryReservation, j.MemorySwap = r.CPUSet, r.BlkioWeight, r.MemoryReservation, r.MemorySwap
		j.MemorySwappiness = r.MemorySwappiness
		if j.Memory > 0 && j.MemorySwap == 0 {
			j.MemorySwap = 2 * j.Memory // Docker's default, as its inspect shows it
		}
		if r.PidsLimit != 0 {
			j.PidsLimit = &r.PidsLimit
		}
	}
	return j
}
