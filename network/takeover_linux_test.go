package network

import (
	"fmt"
	"testing"
)

// TestTakeOverPorts: the successor's rules go ahead of the old owner's in
// one transaction, so a new connection reaches the successor while the
// old owner's rules, shadowed, are still there; their removal changes
// nothing for the port.
func TestTakeOverPorts(t *testing.T) {
	m := newPortMove(t)
	if err := m.h.TakeOverPorts(m.from, m.to, m.next); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		m.answers(t, "new", fmt.Sprintf("after the take-over, connection %d", i))
	}
	m.rules(t, m.from, 2) // shadowed
	m.rules(t, m.to, 2)
	if err := m.h.UnpublishPorts(m.from); err != nil {
		t.Fatal(err)
	}
	m.answers(t, "new", "after the old owner's rules went")
	m.rules(t, m.from, 0)
}
