package network

import (
	"net"
	"strconv"
	"testing"
	"time"
)

// TestPublishedPortForms reaches published ports from a separate netns
// (standing for another machine) through the host's address on its
// link: a UDP range ("5300-5302:53-55/udp", one mapping per port), a TCP
// port on that host IP only, and a TCP port on every host address.
func TestPublishedPortForms(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	ns, l := testLink(t, h, b, 2)
	cip := l.Addr.Addr()
	o := testOutside(t)
	for _, p := range []string{"53", "54", "55"} {
		serveUDP(t, ns, net.JoinHostPort(cip.String(), p), "udp"+p+":")
	}
	serveTCP(t, ns, net.JoinHostPort(cip.String(), "80"), "on-ip")
	serveTCP(t, ns, net.JoinHostPort(cip.String(), "81"), "everywhere")

	udpBase := freeRun(t, 3)
	onIP, everywhere := freePort(t, "tcp4"), freePort(t, "tcp4")
	var m []PortMapping
	for i := range uint16(3) {
		m = append(m, PortMapping{HostPort: udpBase + i, ContainerIP: cip, ContainerPort: 53 + i, Protocol: "udp", Bridge: b.Name})
	}
	m = append(m,
		PortMapping{HostIP: o.hostAddr, HostPort: onIP, ContainerIP: cip, ContainerPort: 80, Protocol: "tcp", Bridge: b.Name},
		PortMapping{HostPort: everywhere, ContainerIP: cip, ContainerPort: 81, Protocol: "tcp", Bridge: b.Name},
	)
	if err := h.PublishPorts("forms", m); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.UnpublishPorts("forms") })
	at := func(a string, p uint16) string { return net.JoinHostPort(a, strconv.Itoa(int(p))) }
	host := o.hostAddr.String()

	for i := range uint16(3) {
		want := "udp" + strconv.Itoa(int(53+i)) + ":ping"
		if got, err := askUDPFrom(o.ns, at(host, udpBase+i)); err != nil || got != want {
			t.Errorf("udp %d from the outside netns: %q, %v; want %q", udpBase+i, got, err, want)
		}
	}
	if got, err := readTCP(o.ns, at(host, onIP)); err != nil || got != "on-ip" {
		t.Errorf("tcp on its host ip from the outside netns: %q, %v", got, err)
	}
	if got, err := readTCP("", at(host, onIP)); err != nil || got != "on-ip" {
		t.Errorf("tcp on its host ip from the host: %q, %v", got, err)
	}
	if got, err := readTCPWithin("", at("127.0.0.1", onIP), blockedTimeout); err == nil {
		t.Errorf("a port published on %s answered on 127.0.0.1: %q", host, got)
	}
	for _, from := range []string{o.ns, ""} {
		if got, err := readTCP(from, at(host, everywhere)); err != nil || got != "everywhere" {
			t.Errorf("tcp on every address, from netns %q: %q, %v", from, got, err)
		}
	}
	if got, err := readTCP("", at("127.0.0.1", everywhere)); err != nil || got != "everywhere" {
		t.Errorf("tcp on every address via 127.0.0.1: %q, %v", got, err)
	}
}

// freeRun returns the first of n consecutive UDP ports free right now.
func freeRun(t *testing.T, n int) uint16 {
	t.Helper()
	for range 100 {
		p := freePort(t, "udp4")
		ok := true
		for i := 1; i < n && ok; i++ {
			c, err := net.ListenPacket("udp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(int(p)+i)))
			if ok = err == nil; ok {
				c.Close()
			}
		}
		if ok && int(p)+n <= 65535 {
			return p
		}
	}
	t.Fatal("no run of free udp ports")
	return 0
}

// askUDPFrom sends "ping" to addr from a socket in the netns at ns and
// returns the reply.
func askUDPFrom(ns, addr string) (string, error) {
	var c net.Conn
	if err := inNetNS(ns, func() (err error) { c, err = net.Dial("udp4", addr); return err }); err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write([]byte("ping")); err != nil {
		return "", err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}
