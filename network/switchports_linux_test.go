package network

import (
	"fmt"
	"net"
	"strconv"
	"testing"
)

// portMove is a published port owned by one container (from) that a test
// moves to another (to): both serve it, "old" and "new".
type portMove struct {
	h        *Host
	from, to string
	next     []PortMapping // the port, at to's address
	addr     string        // where a client connects
}

// newPortMove publishes a free port for from's server and checks that it
// answers; the rules of both owners go with the test.
func newPortMove(t *testing.T) portMove {
	t.Helper()
	h := rootTest(t)
	b := testBridge(t, h)
	ns1, l1 := testLink(t, h, b, 2)
	ns2, l2 := testLink(t, h, b, 3)
	serveTCP(t, ns1, net.JoinHostPort(l1.Addr.Addr().String(), "8080"), "old")
	serveTCP(t, ns2, net.JoinHostPort(l2.Addr.Addr().String(), "8080"), "new")
	port := freePort(t, "tcp4")
	m := portMove{h: h, from: fmt.Sprintf("proj-web-1-%d", port), to: fmt.Sprintf("proj-web-2-%d", port),
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))}
	t.Cleanup(func() {
		for _, o := range []string{m.from, m.to} {
			if err := h.UnpublishPorts(o); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	mapping := func(l Link) []PortMapping {
		return []PortMapping{{HostPort: port, ContainerIP: l.Addr.Addr(), ContainerPort: 8080, Protocol: "tcp", Bridge: b.Name}}
	}
	m.next = mapping(l2)
	if err := h.PublishPorts(m.from, mapping(l1)); err != nil {
		t.Fatal(err)
	}
	m.answers(t, "old", "before the move")
	return m
}

// answers fails the test unless a new connection to the port reads want.
func (m portMove) answers(t *testing.T, want, when string) {
	t.Helper()
	if got, err := readTCP("", m.addr); err != nil || got != want {
		t.Fatalf("%s: %q, %v", when, got, err)
	}
}

// rules fails the test unless owner has n rules.
func (m portMove) rules(t *testing.T, owner string, n int) {
	t.Helper()
	if got := rulesTagged(t, m.h, ownerTag(owner)); got != n {
		t.Errorf("%d rules of %s, want %d", got, owner, n)
	}
}

// TestSwitchPorts moves a published port from one container's address to
// another's in one transaction: the old owner's rules are gone, the new
// owner's answer.
func TestSwitchPorts(t *testing.T) {
	m := newPortMove(t)
	if err := m.h.SwitchPorts(m.from, m.to, m.next); err != nil {
		t.Fatal(err)
	}
	m.answers(t, "new", "after the switch")
	m.rules(t, m.from, 0)
	m.rules(t, m.to, 2)
}
