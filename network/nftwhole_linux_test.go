package network

import (
	"fmt"
	"testing"

	"github.com/google/nftables"
)

// A transaction on berth's whole table (every chain and the base rule
// there) queues no creation, which would make the commit slower; one
// that finds a chain missing makes it again, with the rules it adds.
func TestWholeTableNotRemade(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	whole := func() bool {
		t.Helper()
		x, err := h.begin(false)
		if err != nil {
			t.Fatal(err)
		}
		defer x.conn.CloseLasting()
		return x.ip.whole()
	}
	if !whole() {
		t.Fatal("after EnsureBridge the table is not whole")
	}
	// A chain deleted by hand (its rules first).
	conn, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	table := &nftables.Table{Name: h.table, Family: nftables.TableFamilyIPv4}
	out := &nftables.Chain{Name: chainOutput, Table: table}
	conn.FlushChain(out)
	conn.DelChain(out)
	if err := conn.Flush(); err != nil {
		t.Fatal(err)
	}
	if whole() {
		t.Fatal("without its output chain the table counts as whole")
	}
	owner := publishOne(t, h, b)
	if !whole() {
		t.Fatal("a publish did not make the output chain again")
	}
	if n := countRules(t, h, func(r *nftables.Rule) bool { return ruleTag(r) == ownerTag(owner) && r.Chain.Name == chainOutput }); n != 1 {
		t.Errorf("%d output rules of the owner, want 1", n)
	}
	// On the whole table a switch queues rules only: the chains it
	// adds to are those the table has.
	x, err := h.begin(true)
	if err != nil {
		t.Fatal(err)
	}
	defer x.conn.CloseLasting()
	if x.ip.chains[chainPrerouting] == nil || x.ip.chains[chainPrerouting] != x.ip.have[chainPrerouting] {
		t.Errorf("the txn's prerouting chain is %v, want the existing %v", x.ip.chains[chainPrerouting], x.ip.have[chainPrerouting])
	}
}

// UnpublishPorts of an owner without rules, which ends its transaction
// without a commit, changes nothing; of one with rules, removes them all.
func TestUnpublishPortsOfOwnerWithout(t *testing.T) {
	h := rootTest(t)
	b := testBridge(t, h)
	owner := publishOne(t, h, b)
	ofOwner := func(r *nftables.Rule) bool { return ruleTag(r) == ownerTag(owner) }
	had := countRules(t, h, func(*nftables.Rule) bool { return true })
	if countRules(t, h, ofOwner) == 0 {
		t.Fatal("the publish made no rules")
	}
	if err := h.UnpublishPorts(owner + "-other"); err != nil {
		t.Fatal(err)
	}
	if n := countRules(t, h, func(*nftables.Rule) bool { return true }); n != had {
		t.Errorf("unpublishing an owner without rules: %d rules, want the %d there were", n, had)
	}
	if err := h.UnpublishPorts(owner); err != nil {
		t.Fatal(err)
	}
	if n := countRules(t, h, ofOwner); n != 0 {
		t.Errorf("%d rules of %s left after UnpublishPorts", n, owner)
	}
}

// publishOne publishes a port of a new link on b for an owner of its own,
// whose ports are unpublished when the test ends, and returns the owner.
func publishOne(t *testing.T, h *Host, b Bridge) string {
	t.Helper()
	owner := fmt.Sprintf("proj-web-1-%d", freePort(t, "tcp4"))
	t.Cleanup(func() {
		if err := h.UnpublishPorts(owner); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	_, l := testLink(t, h, b, 2)
	m := []PortMapping{{HostPort: freePort(t, "tcp4"), ContainerIP: l.Addr.Addr(), ContainerPort: 80, Protocol: "tcp", Bridge: b.Name}}
	if err := h.PublishPorts(owner, m); err != nil {
		t.Fatal(err)
	}
	return owner
}
