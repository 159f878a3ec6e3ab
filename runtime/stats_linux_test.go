package runtime

import "testing"

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
