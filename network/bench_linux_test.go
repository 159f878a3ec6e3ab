package network

import (
	"fmt"
	"math/rand/v2"
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
		l := attachNew(b, h, br, filepath.Join(dir, fmt.Sprintf("ns%d", i)), addr)
		b.StopTimer()
		detachNew(b, h, l)
		b.StartTimer()
	}
}

// BenchmarkNetworkWith50 measures what `up` of a 50-container project
// costs the network layer: one new bridge (EnsureBridge, with its nft
// rules) and 50 netns attached to it. Teardown runs with the timer stopped.
func BenchmarkNetworkWith50(b *testing.B) {
	h := rootTest(b)
	sub := testSubnet(b)
	dir := b.TempDir()
	b.ResetTimer()
	for i := range b.N {
		br := Bridge{Name: BridgeName(fmt.Sprintf("bench-%x", rand.Uint64())), Subnet: sub, Gateway: sub.Addr().Next()}
		if err := h.EnsureBridge(br); err != nil {
			b.Fatal(err)
		}
		var links []nsLink
		a := br.Gateway
		for j := range 50 {
			a = a.Next()
			links = append(links, attachNew(b, h, br, filepath.Join(dir, fmt.Sprintf("ns%d-%d", i, j)), netip.PrefixFrom(a, sub.Bits())))
		}
		b.StopTimer()
		for _, l := range links {
			detachNew(b, h, l)
		}
		if err := h.RemoveBridge(br); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

type nsLink struct {
	ns string
	l  Link
}

// attachNew creates a netns at ns and attaches it to br with addr.
func attachNew(b *testing.B, h *Host, br Bridge, ns string, addr netip.Prefix) nsLink {
	l := Link{Bridge: br, HostVeth: VethName(ns, br.Name), IfName: "eth0", Addr: addr, DefaultRoute: true}
	if err := CreateNetNS(ns); err != nil {
		b.Fatal(err)
	}
	if err := h.Attach(ns, l); err != nil {
		b.Fatal(err)
	}
	return nsLink{ns, l}
}

func detachNew(b *testing.B, h *Host, n nsLink) {
	if err := h.Detach(n.l); err != nil {
		b.Fatal(err)
	}
	if err := RemoveNetNS(n.ns); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCreateNetNSWith is BenchmarkAttach through CreateNetNSWith,
// as a container's creation makes its namespace: one call.
func BenchmarkCreateNetNSWith(b *testing.B) {
	h := rootTest(b)
	br := testBridge(b, h)
	dir := b.TempDir()
	addr := netip.PrefixFrom(br.Gateway.Next(), br.Subnet.Bits())
	b.ResetTimer()
	for i := range b.N {
		ns := filepath.Join(dir, fmt.Sprintf("ns%d", i))
		l := Link{Bridge: br, HostVeth: VethName(ns, br.Name), IfName: "eth0", Addr: addr, DefaultRoute: true}
		if err := h.CreateNetNSWith(ns, []Link{l}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		detachNew(b, h, nsLink{ns, l})
		b.StartTimer()
	}
}
