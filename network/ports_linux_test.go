package network

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
)

func TestPublishPorts(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	ns, l := testLink(t, h, b, 2)
	cip := l.Addr.Addr()
	serveTCP(t, ns, net.JoinHostPort(cip.String(), "8080"), "hello via tcp")
	serveUDP(t, ns, net.JoinHostPort(cip.String(), "5353"), "echo:")

	tcpPort, udpPort := freePort(t, "tcp4"), freePort(t, "udp4")
	owner := fmt.Sprintf("proj-web-%d", tcpPort)
	t.Cleanup(func() {
		if err := h.UnpublishPorts(owner); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	maps := []PortMapping{
		{HostPort: tcpPort, ContainerIP: cip, ContainerPort: 8080, Protocol: "tcp", Bridge: b.Name},
		{HostPort: udpPort, ContainerIP: cip, ContainerPort: 5353, Protocol: "udp", Bridge: b.Name},
	}
	if err := h.PublishPorts(owner, maps); err != nil {
		t.Fatal(err)
	}
	// Publishing again replaces, it does not duplicate.
	if err := h.PublishPorts(owner, maps); err != nil {
		t.Fatal(err)
	}
	if n := rulesTagged(t, h, ownerTag(owner)); n != 2*len(maps) {
		t.Errorf("%d rules for %s, want %d (prerouting + output per mapping)", n, owner, 2*len(maps))
	}

	tcpAt := func(a netip.Addr) string { return net.JoinHostPort(a.String(), strconv.Itoa(int(tcpPort))) }
	loop := netip.MustParseAddr("127.0.0.1")
	targets := map[string]netip.Addr{"host loopback": loop}
	if a, ok := hostAddr(t); ok {
		targets["host address "+a.String()] = a
	} else {
		t.Log("the host has no non-loopback IPv4 address: only loopback is tested")
	}
	for name, a := range targets {
		if got, err := readTCP("", tcpAt(a)); err != nil || got != "hello via tcp" {
			t.Errorf("tcp from %s (%s): %q, %v", name, tcpAt(a), got, err)
		}
	}
	udpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(udpPort)))
	if got, err := askUDP(udpAddr, "ping"); err != nil || got != "echo:ping" {
		t.Errorf("udp via %s: %q, %v", udpAddr, got, err)
	}

	// A container on another network reaches the port through the
	// first bridge's gateway address (a local address of the host).
	b2 := testBridge(t, h)
	ns2, _ := testLink(t, h, b2, 2)
	if got, err := readTCP(ns2, tcpAt(b.Gateway)); err != nil || got != "hello via tcp" {
		t.Errorf("tcp from another bridge's netns to %s: %q, %v", tcpAt(b.Gateway), got, err)
	}
	// Hairpin: the container reaches its own published port via the gateway.
	if got, err := readTCP(ns, tcpAt(b.Gateway)); err != nil || got != "hello via tcp" {
		t.Errorf("tcp hairpin from the container to %s: %q, %v", tcpAt(b.Gateway), got, err)
	}

	if err := h.UnpublishPorts(owner); err != nil {
		t.Fatal(err)
	}
	if n := rulesTagged(t, h, ownerTag(owner)); n != 0 {
		t.Errorf("%d rules for %s left after UnpublishPorts", n, owner)
	}
	if got, err := readTCP("", tcpAt(loop)); err == nil {
		t.Errorf("tcp port %d still answers after UnpublishPorts: %q", tcpPort, got)
	}
	if got, err := askUDP(udpAddr, "ping"); err == nil {
		t.Errorf("udp port %d still answers after UnpublishPorts: %q", udpPort, got)
	}
}

func TestPublishPortsHostIPAndOwners(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	nsA, la := testLink(t, h, b, 2)
	nsB, lb := testLink(t, h, b, 3)
	serveTCP(t, nsA, net.JoinHostPort(la.Addr.Addr().String(), "80"), "A")
	serveTCP(t, nsB, net.JoinHostPort(lb.Addr.Addr().String(), "80"), "B")
	pa, pb := freePort(t, "tcp4"), freePort(t, "tcp4")
	for owner, m := range map[string]PortMapping{
		"a": {HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: pa, ContainerIP: la.Addr.Addr(), ContainerPort: 80, Protocol: "tcp"},
		"b": {HostPort: pb, ContainerIP: lb.Addr.Addr(), ContainerPort: 80, Protocol: "tcp"},
	} {
		if err := h.PublishPorts(owner, []PortMapping{m}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.UnpublishPorts(owner) })
	}
	at := func(a string, p uint16) string { return net.JoinHostPort(a, strconv.Itoa(int(p))) }
	if got, err := readTCP("", at("127.0.0.1", pa)); err != nil || got != "A" {
		t.Errorf("A on its host ip: %q, %v", got, err)
	}
	// A is bound to 127.0.0.1 only: the gateway address does not forward.
	if got, err := readTCPWithin("", at(b.Gateway.String(), pa), blockedTimeout); err == nil {
		t.Errorf("A answered on %s although published on 127.0.0.1 only: %q", b.Gateway, got)
	}
	// Removing one owner leaves the other's rules alone.
	if err := h.UnpublishPorts("a"); err != nil {
		t.Fatal(err)
	}
	if got, err := readTCP("", at("127.0.0.1", pb)); err != nil || got != "B" {
		t.Errorf("B after unpublishing A: %q, %v", got, err)
	}
	if got, err := readTCP("", at("127.0.0.1", pa)); err == nil {
		t.Errorf("A still answers after UnpublishPorts: %q", got)
	}
	// Replacing B's mappings with none is the same as unpublishing.
	if err := h.PublishPorts("b", nil); err != nil {
		t.Fatal(err)
	}
	if n := rulesTagged(t, h, ownerTag("b")); n != 0 {
		t.Errorf("%d rules of b after publishing nothing", n)
	}
}
