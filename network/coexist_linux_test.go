package network

import (
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/nftables"
)

// TestDockerForwardDrop runs berth beside an iptables-nft `ip filter`
// FORWARD chain with policy drop, as Docker leaves it: forwarded flows
// are dropped before EnsureBridge adds its accept rules there and flow
// after; RemoveBridge takes exactly those rules out again. The test
// makes the chain only if the host has no `ip filter` table, and uses an
// existing one only if its FORWARD policy is already drop.
func TestDockerForwardDrop(t *testing.T) {
	h := rootTest(t)
	a := testBridge(t, h) // made before the chain exists: nothing added there
	nsA, la := testLink(t, h, a, 2)
	o := testOutside(t)
	serveTCP(t, nsA, net.JoinHostPort(la.Addr.Addr().String(), "8080"), "published")
	serveTCP(t, o.ns, net.JoinHostPort(o.addr.String(), "9090"), "outside")
	port := freePort(t, "tcp4")
	if err := h.PublishPorts("coexist", []PortMapping{{HostPort: port, ContainerIP: la.Addr.Addr(), ContainerPort: 8080, Protocol: "tcp", Bridge: a.Name}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.UnpublishPorts("coexist") })
	published := net.JoinHostPort(o.hostAddr.String(), strconv.Itoa(int(port)))
	egress := net.JoinHostPort(o.addr.String(), "9090")
	flows := func(timeout func(string, string) (string, error)) map[string]error {
		errs := map[string]error{}
		if got, err := timeout(o.ns, published); err != nil || got != "published" {
			errs["outside netns to a published port"] = errorOr(err, got)
		}
		if got, err := timeout(nsA, egress); err != nil || got != "outside" {
			errs["container egress to the outside netns"] = errorOr(err, got)
		}
		return errs
	}
	blocked := func(ns, addr string) (string, error) { return readTCPWithin(ns, addr, blockedTimeout) }
	if errs := flows(readTCP); len(errs) > 0 {
		t.Fatalf("control without a dropping FORWARD chain: %v", errs)
	}

	created := dockerLikeForward(t)
	before := listFilter(t, h)
	if errs := flows(blocked); len(errs) != 2 {
		t.Fatalf("the FORWARD drop policy does not drop berth's traffic (nothing to prove): only %v failed", errs)
	}
	if err := h.EnsureBridge(a); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(listFilter(t, h), h.foreignBridgeTag(a.Name)); n != 3 {
		t.Errorf("%d accept rules for %s in ip filter FORWARD, want 3", n, a.Name)
	}
	if err := h.EnsureBridge(a); err != nil { // idempotent
		t.Fatal(err)
	}
	if n := strings.Count(listFilter(t, h), h.foreignBridgeTag(a.Name)); n != 3 {
		t.Errorf("%d accept rules for %s after a second EnsureBridge, want 3", n, a.Name)
	}
	iptablesReadable(t)
	for name, err := range flows(readTCP) {
		t.Errorf("%s with berth's accept rules: %v", name, err)
	}
	// Another berth (table) on the same host does not touch a's rules.
	if err := New(WithTable(h.Table() + "x")).DeleteTable(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(listFilter(t, h), h.foreignBridgeTag(a.Name)); n != 3 {
		t.Errorf("%d accept rules after another table's DeleteTable, want 3", n)
	}

	if err := h.Detach(la); err != nil {
		t.Fatal(err)
	}
	if err := h.RemoveBridge(a); err != nil {
		t.Fatal(err)
	}
	if after := listFilter(t, h); after != before {
		t.Errorf("ip filter changed (created by the test: %v):\nbefore:\n%s\nafter:\n%s", created, before, after)
	}
}

// dockerLikeForward makes `table ip filter` with a FORWARD chain of
// policy drop, deleted at cleanup, unless the host has an `ip filter`
// table: then its FORWARD chain is used if it drops by default, and the
// test is skipped if not. It reports whether it created the table.
func dockerLikeForward(t *testing.T) bool {
	t.Helper()
	conn, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if tb.Name != foreignTable {
			continue
		}
		fwd, err := readForeignForward(conn)
		if err != nil {
			t.Fatal(err)
		}
		if !fwd.drops() {
			t.Skip("the host has an ip filter table whose FORWARD chain does not drop by default: not changing it")
		}
		return false
	}
	table := &nftables.Table{Name: foreignTable, Family: nftables.TableFamilyIPv4}
	policy := nftables.ChainPolicyDrop
	conn.AddTable(table)
	conn.AddChain(&nftables.Chain{Name: foreignChain, Table: table, Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &policy})
	if err := conn.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.DelTable(table)
		if err := conn.Flush(); err != nil {
			t.Errorf("deleting the test's ip filter table: %v", err)
		}
	})
	return true
}

// otherBerthRule matches rule lines of other berth instances (other
// tests running in parallel), which come and go on their own.
var otherBerthRule = regexp.MustCompile(`comment "berth:table=([^:"]+):`)

// listFilter returns `nft -a list table ip filter` without the rules of
// other berth tables than h's.
func listFilter(t *testing.T, h *Host) string {
	t.Helper()
	out, err := exec.Command("nft", "-a", "list", "table", "ip", foreignTable).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list table ip filter: %v: %s", err, out)
	}
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := otherBerthRule.FindStringSubmatch(line); m != nil && m[1] != h.Table() {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

func errorOr(err error, got string) error {
	if err != nil {
		return err
	}
	return &unexpectedReply{got}
}

type unexpectedReply struct{ got string }

func (u *unexpectedReply) Error() string { return "unexpected reply " + strconv.Quote(u.got) }

// iptablesReadable checks that iptables-nft, which Docker drives, can
// still read the FORWARD chain with berth's rules in it.
func iptablesReadable(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("iptables-nft")
	if err != nil {
		t.Log("no iptables-nft on this host: not checking that it reads berth's rules")
		return
	}
	out, err := exec.Command(bin, "-w", "-S", foreignChain).CombinedOutput()
	t.Logf("iptables-nft -S FORWARD:\n%s", out)
	if err != nil || strings.Contains(string(out), "incompatible") || strings.Contains(string(out), "unknown") {
		t.Errorf("iptables-nft cannot read the FORWARD chain with berth's rules: %v", err)
	}
}
