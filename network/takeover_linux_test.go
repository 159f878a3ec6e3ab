package network

import (
	"fmt"
	"net"
	"strconv"
	"testing"
)

// TestTakeOverPorts: the successor's rules go ahead of the old owner's in
// one transaction, so a new connection reaches the successor while the
// old owner's rules, shadowed, are still there; their removal changes
// nothing for the port.
func TestTakeOverPorts(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	ns1, l1 := testLink(t, h, b, 2)
	ns2, l2 := testLink(t, h, b, 3)
	serveTCP(t, ns1, net.JoinHostPort(l1.Addr.Addr().String(), "8080"), "old")
	serveTCP(t, ns2, net.JoinHostPort(l2.Addr.Addr().String(), "8080"), "new")
	port := freePort(t, "tcp4")
	from, to := fmt.Sprintf("proj-web-1-%d", port), fmt.Sprintf("proj-web-2-%d", port)
	t.Cleanup(func() {
		for _, o := range []string{from, to} {
			if err := h.UnpublishPorts(o); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	mapping := func(l Link) []PortMapping {
		return []PortMapping{{HostPort: port, ContainerIP: l.Addr.Addr(), ContainerPort: 8080, Protocol: "tcp", Bridge: b.Name}}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))
	if err := h.PublishPorts(from, mapping(l1)); err != nil {
		t.Fatal(err)
	}
	if got, err := readTCP("", addr); err != nil || got != "old" {
		t.Fatalf("before the take-over: %q, %v", got, err)
	}
	if err := h.TakeOverPorts(from, to, mapping(l2)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got, err := readTCP("", addr); err != nil || got != "new" {
			t.Fatalf("after the take-over, connection %d: %q, %v", i, got, err)
		}
	}
	if n := rulesTagged(t, h, ownerTag(from)); n != 2 {
		t.Errorf("%d rules of the old owner, want its 2 shadowed ones", n)
	}
	if n := rulesTagged(t, h, ownerTag(to)); n != 2 {
		t.Errorf("%d rules of the new owner, want 2", n)
	}
	if err := h.UnpublishPorts(from); err != nil {
		t.Fatal(err)
	}
	if got, err := readTCP("", addr); err != nil || got != "new" {
		t.Fatalf("after the old owner's rules went: %q, %v", got, err)
	}
	if n := rulesTagged(t, h, ownerTag(from)); n != 0 {
		t.Errorf("%d rules of the old owner left", n)
	}
}
