package network

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
)

func TestForeignTablesUntouched(t *testing.T) {
	h := rootTest(t)
	// One table with berth's own name in another family, one unrelated
	// table with a base chain: berth must leave both byte for byte.
	foreign := []*nftables.Table{
		{Name: h.Table(), Family: nftables.TableFamilyINet},
		{Name: fmt.Sprintf("foreign_t%08x", rand.Uint32()), Family: nftables.TableFamilyIPv4},
	}
	makeForeignTables(t, foreign)
	before := listTables(t, foreign)

	b := testBridge(t, h) // EnsureBridge
	ns, l := testLink(t, h, b, 2)
	_ = ns
	owner := "foreign-test"
	if err := h.PublishPorts(owner, []PortMapping{{HostPort: freePort(t, "tcp4"), ContainerIP: l.Addr.Addr(), ContainerPort: 80, Protocol: "tcp", Bridge: b.Name}}); err != nil {
		t.Fatal(err)
	}
	if mid := listTables(t, foreign); mid != before {
		t.Errorf("foreign tables changed by EnsureBridge/PublishPorts:\nbefore:\n%s\nafter:\n%s", before, mid)
	}
	if err := h.UnpublishPorts(owner); err != nil {
		t.Fatal(err)
	}
	if err := h.Detach(l); err != nil {
		t.Fatal(err)
	}
	if err := h.RemoveBridge(b); err != nil {
		t.Fatal(err)
	}
	if err := h.DeleteTable(); err != nil {
		t.Fatal(err)
	}
	if after := listTables(t, foreign); after != before {
		t.Errorf("foreign tables changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if out, err := exec.Command("nft", "list", "table", "ip", h.Table()).CombinedOutput(); err == nil {
		t.Errorf("berth's table still exists after DeleteTable:\n%s", out)
	}
}

// makeForeignTables creates each table with a base chain and one
// harmless rule (it matches a documentation range), deleted at cleanup.
func makeForeignTables(t *testing.T, tables []*nftables.Table) {
	t.Helper()
	conn, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range tables {
			conn.DelTable(tb)
		}
		if err := conn.Flush(); err != nil {
			t.Errorf("deleting foreign tables: %v", err)
		}
	})
	for _, tb := range tables {
		conn.AddTable(tb)
		c := conn.AddChain(&nftables.Chain{Name: "fwd", Table: tb, Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter})
		match := l4Port("tcp", 9)
		if tb.Family == nftables.TableFamilyIPv4 {
			match = append(ipPrefix(offSaddr, netip.MustParsePrefix("198.51.100.0/24")), match...)
		}
		conn.AddRule(&nftables.Rule{
			Table:    tb,
			Chain:    c,
			Exprs:    append(append(match, &expr.Counter{}), accept()...),
			UserData: userdata.AppendString(nil, userdata.TypeComment, "not berth's"),
		})
	}
	if err := conn.Flush(); err != nil {
		t.Fatal(err)
	}
}

// listTables returns `nft -a list table` of each table, handles included.
func listTables(t *testing.T, tables []*nftables.Table) string {
	t.Helper()
	var s string
	for _, tb := range tables {
		fam := map[nftables.TableFamily]string{nftables.TableFamilyINet: "inet", nftables.TableFamilyIPv4: "ip", nftables.TableFamilyIPv6: "ip6"}[tb.Family]
		out, err := exec.Command("nft", "-a", "list", "table", fam, tb.Name).CombinedOutput()
		if err != nil {
			t.Fatalf("nft list table %s %s: %v: %s", fam, tb.Name, err, out)
		}
		s += string(out)
	}
	return s
}
