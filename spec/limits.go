package spec

import (
	"cmp"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Resources are a service's cgroup limits, as Docker Compose hands them to
// the engine: the service-level keys (cpus, cpu_shares, cpu_quota,
// cpu_period, cpuset, mem_limit, mem_reservation, memswap_limit,
// mem_swappiness, pids_limit, blkio_config.weight) with
// deploy.resources.limits (cpus, memory, pids) and
// deploy.resources.reservations.memory over them. They are left out of the
// config hash: a change is applied to the running container in place (see
// LimitsChanged).
type Resources struct {
	NanoCPUs          int64  `json:"nano_cpus,omitempty"`          // cpus × 10⁹; 0: no limit
	CPUShares         int64  `json:"cpu_shares,omitempty"`         // relative weight; 0: the kernel's (1024)
	CPUQuota          int64  `json:"cpu_quota,omitempty"`          // µs per CPUPeriod; 0: none
	CPUPeriod         int64  `json:"cpu_period,omitempty"`         // µs; 0: the kernel's (100000)
	CPUSet            string `json:"cpuset,omitempty"`             // CPUs allowed, "0-1", "0,2"
	Memory            int64  `json:"memory,omitempty"`             // bytes; 0: no limit
	MemoryReservation int64  `json:"memory_reservation,omitempty"` // soft limit, bytes
	MemorySwap        int64  `json:"memory_swap,omitempty"`        // memory plus swap, bytes; -1: unlimited swap; 0: twice Memory (Docker's)
	MemorySwappiness  *int64 `json:"memory_swappiness,omitempty"`  // 0..100; nil: the kernel's
	PidsLimit         int64  `json:"pids_limit,omitempty"`         // max processes; 0 or -1: no limit
	BlkioWeight       uint16 `json:"blkio_weight,omitempty"`       // 10..1000; 0: none
}

// Docker's bounds of the cgroup values it accepts.
const (
	minMemory    = 6 << 20 // "Minimum memory limit allowed is 6MB"
	minCPUPeriod = 1000    // µs
	maxCPUPeriod = 1000000 // µs
	minCPUQuota  = 1000    // µs
)

// convertResources collects a service's limits, with Docker Compose's
// precedence (pkg/compose/create.go getDeployResources): deploy.resources
// limits and reservations override the service-level keys (compose-go has
// already refused distinct values of the same limit in both places). It
// returns nil when the service sets none, and notes every value Docker
// refuses.
func convertResources(cs types.ServiceConfig, ps *problems) *Resources {
	at := serviceAt(cs.Name)
	r := Resources{
		NanoCPUs:          int64(math.Round(float64(cs.CPUS) * 1e9)),
		CPUShares:         cs.CPUShares,
		CPUQuota:          cs.CPUQuota,
		CPUPeriod:         cs.CPUPeriod,
		CPUSet:            cs.CPUSet,
		Memory:            int64(cs.MemLimit),
		MemoryReservation: int64(cs.MemReservation),
		MemorySwap:        int64(cs.MemSwapLimit),
		PidsLimit:         cs.PidsLimit,
	}
	cpusAt, memAt, pidsAt, resAt := at("cpus"), at("mem_limit"), at("pids_limit"), at("mem_reservation")
	if cs.MemSwappiness != 0 { // as Compose: 0 is "not set"
		v := int64(cs.MemSwappiness)
		r.MemorySwappiness = &v
	}
	if cs.BlkioConfig != nil {
		r.BlkioWeight = cs.BlkioConfig.Weight
		b := cs.BlkioConfig
		if len(b.WeightDevice)+len(b.DeviceReadBps)+len(b.DeviceReadIOps)+len(b.DeviceWriteBps)+len(b.DeviceWriteIOps) > 0 {
			ps.unsupported("blkio_config per-device settings", at("blkio_config")...)
		}
	}
	if cs.Deploy != nil {
		if l := cs.Deploy.Resources.Limits; l != nil {
			if l.NanoCPUs != 0 {
				r.NanoCPUs, cpusAt = int64(math.Round(float64(l.NanoCPUs.Value())*1e9)), at("deploy", "resources", "limits", "cpus")
			}
			if l.MemoryBytes != 0 {
				r.Memory, memAt = int64(l.MemoryBytes), at("deploy", "resources", "limits", "memory")
			}
			if l.Pids > 0 {
				r.PidsLimit, pidsAt = l.Pids, at("deploy", "resources", "limits", "pids")
			}
			if len(l.Devices)+len(l.GenericResources) > 0 {
				ps.unsupported("deploy.resources.limits devices and generic_resources", at("deploy", "resources", "limits")...)
			}
		}
		if v := cs.Deploy.Resources.Reservations; v != nil {
			if v.MemoryBytes != 0 {
				r.MemoryReservation, resAt = int64(v.MemoryBytes), at("deploy", "resources", "reservations", "memory")
			}
			// A CPU reservation is a Swarm scheduling hint: Compose ignores it.
			if len(v.Devices)+len(v.GenericResources) > 0 {
				ps.unsupported("deploy.resources.reservations devices and generic_resources", at("deploy", "resources", "reservations")...)
			}
		}
	}
	checkResources(r, ps, at, cpusAt, memAt, pidsAt, resAt)
	if r == (Resources{}) {
		return nil
	}
	return &r
}

// checkResources notes the values Docker's daemon refuses, with its words.
func checkResources(r Resources, ps *problems, at func(...string) []string, cpusAt, memAt, pidsAt, resAt []string) {
	bad := func(msg string, path []string) { ps.invalid(msg, path...) }
	if r.NanoCPUs < 0 {
		bad("cpus must not be negative", cpusAt)
	}
	if r.NanoCPUs > 0 && (r.CPUQuota != 0 || r.CPUPeriod != 0) {
		bad("cpus cannot be set with cpu_quota or cpu_period (Docker: conflicting options: Nano CPUs and CPU Period/Quota cannot both be set)", cpusAt)
	}
	if r.CPUShares < 0 {
		bad("cpu_shares must not be negative", at("cpu_shares"))
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < minCPUPeriod || r.CPUPeriod > maxCPUPeriod) {
		bad("cpu_period "+strconv.FormatInt(r.CPUPeriod, 10)+" must be between 1000 and 1000000 (µs)", at("cpu_period"))
	}
	if r.CPUQuota != 0 && r.CPUQuota < minCPUQuota {
		bad("cpu_quota "+strconv.FormatInt(r.CPUQuota, 10)+" must be at least 1000 (µs)", at("cpu_quota"))
	}
	if r.CPUSet != "" && !validCPUSet(r.CPUSet) {
		bad("cpuset "+strconv.Quote(r.CPUSet)+` must be a list of CPUs and ranges such as "0-2,4"`, at("cpuset"))
	}
	if r.Memory < 0 || (r.Memory > 0 && r.Memory < minMemory) {
		bad("memory limit "+strconv.FormatInt(r.Memory, 10)+" is below Docker's minimum of 6MB", memAt)
	}
	if r.MemorySwap > 0 && r.Memory == 0 {
		bad("memswap_limit needs a memory limit (mem_limit) too", at("memswap_limit"))
	}
	if r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		bad("memswap_limit must not be less than the memory limit (it counts memory and swap together)", at("memswap_limit"))
	}
	if r.MemoryReservation < 0 || (r.Memory > 0 && r.MemoryReservation > r.Memory) {
		bad("memory reservation must not exceed the memory limit", resAt)
	}
	if s := r.MemorySwappiness; s != nil && (*s < 0 || *s > 100) {
		bad("mem_swappiness "+strconv.FormatInt(*s, 10)+" must be between 0 and 100", at("mem_swappiness"))
	}
	if r.PidsLimit < -1 {
		bad("pids limit must be -1 (unlimited) or positive", pidsAt)
	}
	if r.BlkioWeight != 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000) {
		bad("blkio_config.weight "+strconv.Itoa(int(r.BlkioWeight))+" must be between 10 and 1000", at("blkio_config", "weight"))
	}
}

// validCPUSet reports whether s is a cpuset list: "0", "0-3", "0,2-3".
func validCPUSet(s string) bool {
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return false
		}
		if isRange {
			b, err := strconv.ParseUint(hi, 10, 16)
			if err != nil || b < a {
				return false
			}
		}
	}
	return true
}

// LimitsChanged reports whether old and new differ in their limits: the
// one difference the planner applies to a running container in place.
func LimitsChanged(old, new Service) bool { return len(LimitsDiff(old, new)) > 0 }

// LimitsDiff lists, sorted, the limits that differ between old and new,
// by their canonical keys: "resources.memory", "resources.pids_limit".
func LimitsDiff(old, new Service) []string {
	var a, b map[string]any
	// Resources holds numbers and strings: it always encodes, and decodes
	// back into an object.
	ja, _ := json.Marshal(cmp.Or(old.Resources, &Resources{}))
	jb, _ := json.Marshal(cmp.Or(new.Resources, &Resources{}))
	_ = json.Unmarshal(ja, &a)
	_ = json.Unmarshal(jb, &b)
	return diffValue("resources", a, b, nil)
}
