package runtime

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Resources are a container's cgroup limits, as Docker's HostConfig
// resources. Zero values mean "not set".
type Resources struct {
	NanoCPUs          int64  `json:",omitempty"` // CPUs × 10⁹, turned into a CFS quota over a 100 ms period
	CPUShares         int64  `json:",omitempty"`
	CPUQuota          int64  `json:",omitempty"` // µs
	CPUPeriod         int64  `json:",omitempty"` // µs
	CPUSet            string `json:",omitempty"` // "0-1"
	Memory            int64  `json:",omitempty"` // bytes
	MemoryReservation int64  `json:",omitempty"` // bytes
	MemorySwap        int64  `json:",omitempty"` // memory+swap bytes; -1 unlimited; 0 twice Memory
	MemorySwappiness  *int64 `json:",omitempty"`
	PidsLimit         int64  `json:",omitempty"` // -1 unlimited
	BlkioWeight       uint16 `json:",omitempty"`
}

// hostLimits are what the host's cgroups can do, found once by the runtime.
type hostLimits struct {
	CPUs        int    // usable CPUs
	Online      string // the online CPUs as the kernel lists them, "0-1"; "" when unknown
	Swap        bool   // the memory controller limits swap (memsw / memory.swap.max)
	BlkioWeight bool   // the I/O controller has a proportional weight (CFQ/BFQ on v1, io.weight on v2)
}

// cfsPeriod is the CFS period Docker uses for --cpus, in µs.
const cfsPeriod = 100000

// check reports what the host cannot honour, as Docker's daemon does.
func (r *Resources) check(h hostLimits) error {
	if r == nil {
		return nil
	}
	if r.NanoCPUs > int64(h.CPUs)*1e9 {
		return fmt.Errorf("%w: cpus: range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", ErrInvalidConfig, h.CPUs, h.CPUs)
	}
	if r.CPUSet != "" && h.Online != "" {
		want, err := cpuList(r.CPUSet)
		have, herr := cpuList(h.Online)
		if err != nil {
			return fmt.Errorf("%w: cpuset %q: %v", ErrInvalidConfig, r.CPUSet, err)
		}
		for cpu := range want {
			if herr == nil && !have[cpu] {
				return fmt.Errorf("%w: cpuset: requested CPUs are not available - requested %s, available: %s", ErrInvalidConfig, r.CPUSet, h.Online)
			}
		}
	}
	if r.BlkioWeight != 0 && !h.BlkioWeight {
		return fmt.Errorf("%w: blkio_config.weight: this kernel's I/O controller has no proportional weight (no BFQ/CFQ scheduler on the block devices, or no io.weight)", ErrInvalidConfig)
	}
	return nil
}

// oci sets the limits of r into res, as Docker's daemon translates its
// HostConfig: --cpus as a quota over a 100 ms period, a memory limit
// without memswap_limit allowing as much swap again (when the kernel
// limits swap at all). With reset, limits not set are written as "none"
// (unlimited, the default weight), so that an update to a running
// container takes away what is no longer asked for. h, what the host's
// cgroups can limit, is asked only when a memory limit needs it: finding
// that out reads the cgroup file systems, which a container without one
// need not pay at each start.
func (r *Resources) oci(res *specs.LinuxResources, h func() hostLimits, reset bool) {
	var v Resources
	if r != nil {
		v = *r
	}
	i64 := func(n int64) *int64 { return &n }
	u64 := func(n uint64) *uint64 { return &n }
	mem := &specs.LinuxMemory{}
	if v.Memory > 0 {
		mem.Limit = i64(v.Memory)
	} else if reset {
		mem.Limit = i64(-1)
	}
	if v.MemoryReservation > 0 {
		mem.Reservation = i64(v.MemoryReservation)
	} else if reset {
		mem.Reservation = i64(-1)
	}
	if (v.MemorySwap != 0 || v.Memory > 0 || reset) && h().Swap {
		switch {
		case v.MemorySwap != 0:
			mem.Swap = i64(v.MemorySwap)
		case v.Memory > 0:
			mem.Swap = i64(2 * v.Memory)
		case reset:
			mem.Swap = i64(-1)
		}
	}
	if v.MemorySwappiness != nil {
		mem.Swappiness = u64(uint64(*v.MemorySwappiness))
	}
	cpu := &specs.LinuxCPU{Cpus: v.CPUSet}
	switch {
	case v.NanoCPUs > 0:
		cpu.Period, cpu.Quota = u64(cfsPeriod), i64(v.NanoCPUs*cfsPeriod/1e9)
	case v.CPUQuota != 0 || v.CPUPeriod != 0:
		if v.CPUQuota != 0 {
			cpu.Quota = i64(v.CPUQuota)
		} else if reset {
			cpu.Quota = i64(-1)
		}
		if v.CPUPeriod != 0 {
			cpu.Period = u64(uint64(v.CPUPeriod))
		} else if reset {
			cpu.Period = u64(cfsPeriod)
		}
	case reset:
		cpu.Period, cpu.Quota = u64(cfsPeriod), i64(-1)
	}
	if v.CPUShares > 0 {
		cpu.Shares = u64(uint64(v.CPUShares))
	} else if reset {
		cpu.Shares = u64(1024)
	}
	if v.PidsLimit != 0 || reset {
		lim := v.PidsLimit
		if lim <= 0 {
			lim = -1
		}
		res.Pids = &specs.LinuxPids{Limit: &lim}
	}
	if v.BlkioWeight != 0 {
		w := v.BlkioWeight
		res.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	if *mem != (specs.LinuxMemory{}) {
		res.Memory = mem
	}
	if cpu.Cpus != "" || cpu.Shares != nil || cpu.Quota != nil || cpu.Period != nil {
		res.CPU = cpu
	}
}

// cpuList parses a kernel CPU list, "0-2,4", into its CPUs.
func cpuList(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b-a > 1<<16 {
			return nil, fmt.Errorf("%q is not a list of CPUs", s)
		}
		for c := a; c <= b; c++ {
			out[c] = true
		}
	}
	return out, nil
}
