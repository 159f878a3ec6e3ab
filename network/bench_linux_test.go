package network

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
)

// BenchmarkAttach measures what starting a container costs the network
// layer: a new named netns plus a veth link into it on an existing bridge.
// Teardown of each op runs with the timer stopped.
func BenchmarkAttach(b *testing.B) {
	h := rootTest(b)
	br := testBridge(b, h)
	dir := b.TempDir()
	addr := netip.PrefixFrom(br.Gateway.Next(), br.Subnet.Bits())
	b.ResetTimer()
	for i := range b.N {
		ns := filepath.Join(dir, fmt.Sprintf("ns%d", i))
		l := Link{Bridge: br, HostVeth: VethName(ns, br.Name), IfName: "eth0", Addr: addr, DefaultRoute: true}
		if err := CreateNetNS(ns); err != nil {
			b.Fatal(err)
		}
		if err := h.Attach(ns, l); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := h.Detach(l); err != nil {
			b.Fatal(err)
		}
		if err := RemoveNetNS(ns); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
