package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// Usage is one sample of a container's resource use, read from its
// cgroup (v1 or v2, through libcontainer) and its network namespace. A
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

// Stats samples container id's resource use, and reports whether its
// init lives (running or paused).
func (r *Runtime) Stats(id string) (Usage, bool, error) {
	u := Usage{Read: time.Now()}
	ctr, err := libcontainer.Load(r.paths(id).stateRoot, id)
	if errors.Is(err, libcontainer.ErrNotExist) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("stats of %q: %w", id, err)
	}
	if st, err := ctr.Status(); err != nil || st == libcontainer.Stopped {
		return u, false, nil
	}
	s, err := ctr.Stats()
	if err != nil {
		return u, true, fmt.Errorf("stats of %q: %w", id, err)
	}
	if cg := s.CgroupStats; cg != nil {
		u.CPUTotal = cg.CpuStats.CpuUsage.TotalUsage
		mem := cg.MemoryStats
		u.Memory, u.MemoryLimit = mem.Usage.Usage, mem.Usage.Limit
		if v, v1 := mem.Stats["total_inactive_file"]; v1 {
			u.MemoryInactive = v
		} else {
			u.MemoryInactive = mem.Stats["inactive_file"]
		}
		for _, e := range cg.BlkioStats.IoServiceBytesRecursive {
			switch strings.ToLower(e.Op) {
			case "read":
				u.BlockRead += e.Value
			case "write":
				u.BlockWrite += e.Value
			}
		}
		u.Pids = cg.PidsStats.Current
	}
	cfg := ctr.Config()
	if !cfg.Namespaces.Contains(configs.NEWNET) {
		return u, true, nil // the host's network: Docker counts none of it
	}
	st, err := ctr.State()
	if err != nil || st.InitProcessPid <= 0 {
		return u, true, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", st.InitProcessPid))
	if err != nil {
		return u, true, nil // it has just exited
	}
	u.NetRx, u.NetTx = netDev(b)
	return u, true, nil
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
