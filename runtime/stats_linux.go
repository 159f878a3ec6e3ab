package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fscommon"
	"golang.org/x/sys/unix"
)

// Usage is one sample of a container's resource use, read from its
// cgroup (v1 or v2) and its network namespace. A
// container that is not running has a zero Usage.
type Usage struct {
	Read     time.Time
	CPUTotal uint64 // nanoseconds of CPU its processes used, ever
	Memory   uint64 // bytes charged to its cgroup, page cache included
	// MemoryInactive is the inactive file cache within Memory (v1's
	// total_inactive_file, v2's inactive_file), which Docker leaves out.
	MemoryInactive        uint64
	MemoryLimit           uint64 // its cgroup's limit; the kernel's "no limit" is a huge number
	NetRx, NetTx          uint64 // bytes through its interfaces but lo; 0 when it shares the host's network
	BlockRead, BlockWrite uint64
	Pids                  uint64
}

// Stats samples container id's resource use from its cgroup (v1 or v2)
// and reports whether it runs (a paused one too): only the few files
// `stats` shows are read, with the cgroups library's parsers, rather than
// libcontainer's Stats and its seventy-odd files, so that a host's worth
// of containers is sampled in well under a tenth of a second.
func (r *Runtime) Stats(id string) (Usage, bool, error) {
	u := Usage{Read: time.Now()}
	dirs, err := cgroupDirs(r.cgroupParent, id)
	if err != nil {
		return u, false, fmt.Errorf("stats of %q: %w", id, err)
	}
	pids, err := cgroups.GetPids(dirs.pids)
	if err != nil || len(pids) == 0 {
		return u, false, nil // no cgroup, or nothing in it: not running
	}
	if err := readUsage(&u, dirs); err != nil {
		if _, gone := os.Stat(dirs.pids); gone != nil {
			return Usage{Read: u.Read}, false, nil // it stopped meanwhile
		}
		return u, true, fmt.Errorf("stats of %q: %w", id, err)
	}
	if host, err := sameNetNS(pids[0]); err == nil && !host {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pids[0])); err == nil {
			u.NetRx, u.NetTx = netDev(b)
		}
	} // the host's network (network_mode: host) Docker counts none of
	return u, true, nil
}

// statsDirs are the cgroup directories of a container's controllers;
// one directory for all on cgroup v2.
type statsDirs struct {
	v2                       bool
	cpu, memory, blkio, pids string
}

var (
	mountsOnce sync.Once
	mounts     map[string]string // cgroup v1 controller -> its mount point
	mountsErr  error
)

// cgroupDirs are where libcontainer put container id's cgroups under
// parent: parent/id below each v1 controller's mount point (found once),
// or below the v2 hierarchy.
func cgroupDirs(parent, id string) (statsDirs, error) {
	if cgroups.IsCgroup2UnifiedMode() {
		d := filepath.Join("/sys/fs/cgroup", parent, id)
		return statsDirs{v2: true, cpu: d, memory: d, blkio: d, pids: d}, nil
	}
	mountsOnce.Do(func() {
		mounts = map[string]string{}
		for _, c := range []string{"cpuacct", "memory", "blkio", "pids"} {
			if mounts[c], mountsErr = cgroups.FindCgroupMountpoint("", c); mountsErr != nil {
				return
			}
		}
	})
	if mountsErr != nil {
		return statsDirs{}, mountsErr
	}
	at := func(c string) string { return filepath.Join(mounts[c], parent, id) }
	return statsDirs{cpu: at("cpuacct"), memory: at("memory"), blkio: at("blkio"), pids: at("pids")}, nil
}

// readUsage reads CPU time, memory, block I/O and the task count.
func readUsage(u *Usage, d statsDirs) error {
	var err error
	inactive, usage, limit := "total_inactive_file", "memory.usage_in_bytes", "memory.limit_in_bytes"
	if d.v2 {
		inactive, usage, limit = "inactive_file", "memory.current", "memory.max"
		var usec uint64
		usec, err = fscommon.GetValueByKey(d.cpu, "cpu.stat", "usage_usec")
		u.CPUTotal = usec * 1000
	} else {
		u.CPUTotal, err = fscommon.GetCgroupParamUint(d.cpu, "cpuacct.usage")
	}
	if err != nil {
		return err
	}
	if u.Memory, err = fscommon.GetCgroupParamUint(d.memory, usage); err != nil {
		return err
	}
	if u.MemoryLimit, err = fscommon.GetCgroupParamUint(d.memory, limit); err != nil {
		return err
	}
	if u.MemoryInactive, err = fscommon.GetValueByKey(d.memory, "memory.stat", inactive); err != nil {
		return err
	}
	if u.Pids, err = fscommon.GetCgroupParamUint(d.pids, "pids.current"); err != nil {
		return err
	}
	u.BlockRead, u.BlockWrite, err = blockIO(d)
	return err
}

// blockIO sums the bytes read and written by every device: v2's io.stat,
// or the first of v1's blkio files (CFQ, BFQ, throttling) that has any.
func blockIO(d statsDirs) (read, write uint64, err error) {
	if d.v2 {
		s, err := cgroups.ReadFile(d.blkio, "io.stat")
		if err != nil {
			return 0, 0, err
		}
		for line := range strings.Lines(s) {
			for _, kv := range strings.Fields(line)[1:] {
				k, v, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseUint(v, 10, 64)
				switch k {
				case "rbytes":
					read += n
				case "wbytes":
					write += n
				}
			}
		}
		return read, write, nil
	}
	for _, file := range []string{"blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive"} {
		s, err := cgroups.ReadFile(d.blkio, file)
		if err != nil {
			continue // that scheduler's files do not exist on this kernel
		}
		found := false
		for line := range strings.Lines(s) {
			f := strings.Fields(line) // "8:0 Read 4096"; "Total 4096" at the end
			if len(f) != 3 {
				continue
			}
			found = true
			n, _ := strconv.ParseUint(f[2], 10, 64)
			switch f[1] {
			case "Read":
				read += n
			case "Write":
				write += n
			}
		}
		if found {
			return read, write, nil
		}
	}
	return 0, 0, nil
}

// sameNetNS reports whether process pid is in berth's own network namespace.
func sameNetNS(pid int) (bool, error) {
	var self, other unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &self); err != nil {
		return false, err
	}
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &other); err != nil {
		return false, err
	}
	return self.Ino == other.Ino && self.Dev == other.Dev, nil
}

// netDev sums the received and sent bytes of every interface but lo in
// the content of a /proc/<pid>/net/dev.
func netDev(b []byte) (rx, tx uint64) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, counters, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue // the two header lines, and loopback
		}
		f := strings.Fields(counters)
		if len(f) < 9 {
			continue
		}
		r, _ := strconv.ParseUint(f[0], 10, 64)
		t, _ := strconv.ParseUint(f[8], 10, 64)
		rx, tx = rx+r, tx+t
	}
	return rx, tx
}

// HostUsage is the host's side of a stats sample.
type HostUsage struct {
	SystemCPU  uint64 // nanoseconds of CPU time the host spent, all CPUs, from /proc/stat
	OnlineCPUs int    // CPUs berth may run on
	Memory     uint64 // total memory, bytes
}

// clockTicks is USER_HZ, /proc/stat's unit: 100 on every Linux Docker supports.
const clockTicks = 100

// Host samples the host's CPU time, CPUs and memory, as Docker's daemon
// does for its stats.
func Host() (HostUsage, error) {
	var h HostUsage
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return h, fmt.Errorf("reading host CPU time: %w", err)
	}
	if h.SystemCPU, err = systemCPU(b); err != nil {
		return h, err
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return h, fmt.Errorf("counting CPUs: %w", err)
	}
	h.OnlineCPUs = set.Count()
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return h, fmt.Errorf("reading host memory: %w", err)
	}
	h.Memory = uint64(si.Totalram) * uint64(si.Unit)
	return h, nil
}

// systemCPU is the host's CPU time in nanoseconds from /proc/stat's
// "cpu" line: the sum of its first seven fields (user to softirq).
func systemCPU(stat []byte) (uint64, error) {
	for line := range strings.SplitSeq(string(stat), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 8 {
			return 0, errors.New("/proc/stat: too few fields on its cpu line")
		}
		var ticks uint64
		for _, s := range f[1:8] {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/stat: %w", err)
			}
			ticks += v
		}
		return ticks * (1e9 / clockTicks), nil
	}
	return 0, errors.New("/proc/stat: no cpu line")
}
