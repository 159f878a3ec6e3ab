package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var (
	hostOnce sync.Once
	hostCaps hostLimits
)

// host finds, once, what the host's cgroups can limit: the facts
// Docker's daemon reads into its sysinfo.
func host() hostLimits {
	hostOnce.Do(func() {
		hostCaps.CPUs = goruntime.NumCPU()
		if online, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
			hostCaps.Online = strings.TrimSpace(string(online))
		}
		if cgroups.IsCgroup2UnifiedMode() {
			controllers, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
			fields := strings.Fields(string(controllers))
			hostCaps.BlkioWeight = slices.Contains(fields, "io")
			own, _ := cgroups.ParseCgroupFile("/proc/self/cgroup")
			dir := filepath.Join("/sys/fs/cgroup", own[""])
			hostCaps.Swap = slices.Contains(fields, "memory") && (own[""] == "/" || cgroups.PathExists(filepath.Join(dir, "memory.swap.max")))
			return
		}
		if mnt, err := cgroups.FindCgroupMountpoint("", "memory"); err == nil {
			hostCaps.Swap = cgroups.PathExists(filepath.Join(mnt, "memory.memsw.limit_in_bytes"))
		}
		if mnt, err := cgroups.FindCgroupMountpoint("", "blkio"); err == nil {
			hostCaps.BlkioWeight = cgroups.PathExists(filepath.Join(mnt, "blkio.weight")) ||
				cgroups.PathExists(filepath.Join(mnt, "blkio.bfq.weight"))
		}
	})
	return hostCaps
}

// UpdateResources changes the limits of container id to res, as docker
// update does: in place in the running container's cgroup (through
// libcontainer), and in its configuration for its next runs. A limit the
// kernel refuses (a memory limit below what the container uses) leaves the
// old ones and is an error.
func (r *Runtime) UpdateResources(ctx context.Context, id string, res *Resources) error {
	if err := res.check(host()); err != nil {
		return fmt.Errorf("updating limits of %q: %w", id, err)
	}
	p := r.paths(id)
	_, err := callShim(ctx, p.sock, shimRequest{Op: "update", Resources: res})
	if err == nil {
		return nil
	}
	if shimAlive(p.dir) {
		return fmt.Errorf("updating limits of %q: %w", id, err)
	}
	// Not running: its next start reads the configuration.
	c, cerr := r.Config(id)
	if cerr != nil {
		return fmt.Errorf("updating limits of %q: %w", id, cerr)
	}
	c.Resources = res
	if err := writeJSONAtomic(p.config, c); err != nil {
		return fmt.Errorf("updating limits of %q: %w", id, err)
	}
	return nil
}

// update applies res to the running container and to the configuration
// of its next runs.
func (s *shim) update(res *Resources) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Status == lifecycle.Running || s.state.Status == lifecycle.Paused {
		ctr, err := s.container()
		if err != nil {
			return fmt.Errorf("setting cgroup limits: %w", err)
		}
		var now specs.LinuxResources
		res.oci(&now, host, true)
		if now.CPU == nil || now.CPU.Cpus == "" {
			// No cpuset any more: every online CPU again.
			if host().Online == "" {
				return fmt.Errorf("setting cgroup limits: the online CPUs are unknown (/sys/devices/system/cpu/online)")
			}
			if now.CPU == nil {
				now.CPU = &specs.LinuxCPU{}
			}
			now.CPU.Cpus = host().Online
		}
		cfg := ctr.Config()
		next := *cfg.Cgroups
		nextRes := *next.Resources
		setCgroupResources(&nextRes, &now)
		next.Resources = &nextRes
		cfg.Cgroups = &next
		if err := ctr.Set(cfg); err != nil {
			return fmt.Errorf("setting cgroup limits: %w", err)
		}
	}
	s.cfg.Resources = res
	if spec, err := s.theSpec(); err == nil {
		applyResources(spec, res)
	}
	if err := writeJSONAtomic(s.p.config, s.cfg); err != nil {
		return errors.Join(fmt.Errorf("limits applied, but not recorded for the next start"), err)
	}
	return nil
}

// applyResources puts res into spec's cgroup resources for a start.
func applyResources(spec *specs.Spec, res *Resources) {
	r := spec.Linux.Resources
	r.Memory, r.CPU, r.Pids, r.BlockIO = nil, nil, nil, nil
	res.oci(r, host, false)
}

// setCgroupResources copies the limits berth sets from an OCI spec's
// resources into libcontainer's cgroup resources, as runc update does.
func setCgroupResources(dst *cgroups.Resources, src *specs.LinuxResources) {
	if m := src.Memory; m != nil {
		dst.Memory = deref(m.Limit, dst.Memory)
		dst.MemoryReservation = deref(m.Reservation, dst.MemoryReservation)
		dst.MemorySwap = deref(m.Swap, dst.MemorySwap)
		if m.Swappiness != nil {
			dst.MemorySwappiness = m.Swappiness
		}
	}
	if c := src.CPU; c != nil {
		dst.CpuShares = deref(c.Shares, dst.CpuShares)
		dst.CpuQuota = deref(c.Quota, dst.CpuQuota)
		dst.CpuPeriod = deref(c.Period, dst.CpuPeriod)
		if c.Cpus != "" {
			dst.CpusetCpus = c.Cpus
		}
	}
	if p := src.Pids; p != nil && p.Limit != nil {
		dst.PidsLimit = p.Limit
	}
	if b := src.BlockIO; b != nil && b.Weight != nil {
		dst.BlkioWeight = *b.Weight
	}
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
