package runtime

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/cgroups"
)

func TestNetDev(t *testing.T) {
	dev := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  999999      10    0    0    0     0          0         0   999999      10    0    0    0     0       0          0
  eth0:    1500      12    0    0    0     0          0         0      700       7    0    0    0     0       0          0
  eth1:     500       2    0    0    0     0          0         0       30       1    0    0    0     0       0          0
`
	if rx, tx := netDev([]byte(dev)); rx != 2000 || tx != 730 {
		t.Errorf("netDev = %d, %d; want 2000, 730 (lo left out)", rx, tx)
	}
}

func TestSystemCPU(t *testing.T) {
	stat := "cpu  100 2 30 4000 5 6 7 8 0 0\ncpu0 50 1 15 2000 2 3 3 4 0 0\nintr 1\n"
	got, err := systemCPU([]byte(stat))
	// user+nice+system+idle+iowait+irq+softirq = 4150 ticks of 10 ms.
	if err != nil || got != 4150*10_000_000 {
		t.Errorf("systemCPU = %d, %v", got, err)
	}
	if _, err := systemCPU([]byte("intr 1\n")); err == nil {
		t.Error("no cpu line, no error")
	}
}

// readUsage reads the files Docker's stats come from, v1 and v2 alike.
func TestReadUsage(t *testing.T) {
	cgroups.TestMode = true // plain files stand for the cgroup's
	t.Cleanup(func() { cgroups.TestMode = false })
	write := func(dir string, files map[string]string) {
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	v1 := t.TempDir()
	write(v1, map[string]string{"cpuacct.usage": "1500000000\n", "memory.usage_in_bytes": "4194304\n", "memory.limit_in_bytes": "9223372036854771712\n",
		"memory.stat": "cache 100\ntotal_inactive_file 1048576\n", "pids.current": "3\n",
		"blkio.io_service_bytes_recursive":          "Total 0\n",
		"blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 512\n8:16 Read 1024\n8:0 Total 5632\nTotal 5632\n"})
	var u Usage
	if err := readUsage(&u, statsDirs{cpu: v1, memory: v1, blkio: v1, pids: v1}); err != nil {
		t.Fatal(err)
	}
	want := Usage{CPUTotal: 1.5e9, Memory: 4 << 20, MemoryInactive: 1 << 20, MemoryLimit: 9223372036854771712, Pids: 3, BlockRead: 5120, BlockWrite: 512}
	if u != want {
		t.Errorf("v1: %+v\nwant %+v", u, want)
	}
	v2 := t.TempDir()
	write(v2, map[string]string{"cpu.stat": "usage_usec 2500\nuser_usec 2000\n", "memory.current": "8192\n", "memory.max": "max\n",
		"memory.stat": "anon 4096\ninactive_file 4096\n", "pids.current": "1\n", "io.stat": "8:0 rbytes=100 wbytes=20 rios=1 wios=1\n8:16 rbytes=1 wbytes=2\n"})
	u = Usage{}
	if err := readUsage(&u, statsDirs{v2: true, cpu: v2, memory: v2, blkio: v2, pids: v2}); err != nil {
		t.Fatal(err)
	}
	want = Usage{CPUTotal: 2.5e6, Memory: 8192, MemoryInactive: 4096, MemoryLimit: math.MaxUint64, Pids: 1, BlockRead: 101, BlockWrite: 22}
	if u != want {
		t.Errorf("v2: %+v\nwant %+v", u, want)
	}
}
