package network

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// berth's table holds these chains. Rules are tagged with a comment
// (rule user data, shown by `nft list`) naming what they belong to, so a
// bridge's or an owner's rules can be found and removed exactly.
const (
	chainGuard       = "guard"       // raw prerouting: drop spoofed loopback destinations
	chainPrerouting  = "prerouting"  // nat prerouting: DNAT of published ports
	chainOutput      = "output"      // nat output: DNAT of published ports for the host itself
	chainPostrouting = "postrouting" // nat postrouting: masquerade
	chainForward     = "forward"     // filter forward: accept berth bridge traffic
)

type chainSpec struct {
	name string
	typ  nftables.ChainType
	hook *nftables.ChainHook
	prio *nftables.ChainPriority
}

var chainSpecs = []chainSpec{
	{chainGuard, nftables.ChainTypeFilter, nftables.ChainHookPrerouting, nftables.ChainPriorityRaw},
	{chainPrerouting, nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest},
	{chainOutput, nftables.ChainTypeNAT, nftables.ChainHookOutput, nftables.ChainPriorityNATDest},
	{chainPostrouting, nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource},
	{chainForward, nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter},
}

// Tags of berth's rules.
const tagBase = "berth:base"

func bridgeTag(name string) string { return "berth:bridge=" + name }

// ownerTag names an owner's rules; long owners are hashed to keep the
// comment within nft's 128-byte limit.
func ownerTag(owner string) string {
	if len(owner) > 96 {
		owner = "sha256:" + shortHash(owner, 32)
	}
	return "berth:owner=" + owner
}

func ruleTag(r *nftables.Rule) string {
	s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
	return s
}

// txn is one nftables transaction on berth's tables: it reads the
// current rules once, then queues table and chain creation, rule
// deletions and additions, and applies them all in one Flush, so the
// kernel sees either none or all of the change.
//
// berth has two tables of the same name: family ip for IPv4 and family
// ip6 for IPv6. The ip6 one is made only when a dual-stack bridge or an
// IPv6 port mapping needs it (see v6), so IPv4-only hosts never see it.
// One batch spans both, so a change to both is still atomic.
type txn struct {
	conn *nftables.Conn
	ip   *nfTable // berth's family ip table
	ip6  *nfTable // berth's family ip6 table
	// rules are the rules of both tables present when the txn began.
	rules []*nftables.Rule
	fwd   foreignForward // the iptables(-nft) filter FORWARD chain, if any
}

// nfTable is one of berth's tables within a txn.
type nfTable struct {
	x       *txn
	table   *nftables.Table
	chains  map[string]*nftables.Chain
	exists  bool // the table existed when the txn began
	created bool // its creation (with chains and base rule) is queued, or it was whole
	// have are the chains the table had when the txn began, by name.
	have map[string]*nftables.Chain
}

// updateAttempts bounds the retries of a transaction that lost a race
// with another process changing the table between read and commit.
const updateAttempts = 3

// update runs fn in a transaction on h's tables and commits it. With
// create, the ip table, its chains and its base rule are created first if
// missing (in the same transaction); without, a missing table stays
// missing and fn can only delete. fn asks for the ip6 table with x.v6().
// If the commit fails because a rule fn deleted was already gone, the
// whole read-modify-commit is repeated.
// It holds the host lock (see locked); updateLocked is update for a
// caller that holds it already.
func (h *Host) update(what string, create bool, fn func(*txn) error) error {
	return h.locked(func() error { return h.updateLocked(what, create, fn) })
}

// errNoChange is what an update's fn returns when it has queued nothing:
// the transaction ends without a commit, and update returns nil.
var errNoChange = errors.New("nothing to change")

func (h *Host) updateLocked(what string, create bool, fn func(*txn) error) error {
	var err error
	for range updateAttempts {
		var x *txn
		end := phase.Start("-", "nft.begin")
		x, err = h.begin(create)
		end()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err = fn(x); err != nil {
			_ = x.conn.CloseLasting()
			if errors.Is(err, errNoChange) {
				return nil
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		end = phase.Start("-", "nft.flush")
		err = x.conn.Flush()
		end()
		_ = x.conn.CloseLasting()
		if !errors.Is(err, unix.ENOENT) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s: applying nft table %s: %w", what, h.table, err)
	}
	return nil
}

// begin reads h's rules and, with create, queues the creation of the ip
// table, its chains and its base rule (no-ops for those that exist).
func (h *Host) begin(create bool) (x *txn, err error) {
	// One socket for every read and the commit, not one each.
	conn, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return nil, fmt.Errorf("opening nftables: %w", err)
	}
	defer func() {
		if err != nil {
			_ = conn.CloseLasting()
		}
	}()
	x = &txn{conn: conn}
	for _, t := range []**nfTable{&x.ip, &x.ip6} {
		fam := nftables.TableFamilyIPv4
		if t == &x.ip6 {
			fam = nftables.TableFamilyIPv6
		}
		*t = &nfTable{x: x, table: &nftables.Table{Name: h.table, Family: fam}, chains: map[string]*nftables.Chain{}}
		existing, err := findTable(conn, fam, h.table)
		if err != nil {
			return nil, err
		}
		(*t).exists = existing != nil
		have, rules, err := readTable(conn, existing)
		if err != nil {
			return nil, err
		}
		(*t).have = have
		x.rules = append(x.rules, rules...)
	}
	if x.fwd, err = readForeignForward(conn); err != nil {
		return nil, err
	}
	if create {
		x.ip.create()
	}
	return x, nil
}

// v6 returns berth's ip6 table, queueing its creation (with its chains
// and base rule) if this txn has not yet done so.
func (x *txn) v6() *nfTable {
	x.ip6.create()
	return x.ip6
}

// create queues the creation of t, its chains and its base rule; it does
// so once per txn, and each is a no-op in the kernel if it exists.
func (t *nfTable) create() {
	if t.created {
		return
	}
	t.created = true
	if t.whole() {
		maps.Copy(t.chains, t.have)
		return // a commit that re-adds existing chains costs the kernel milliseconds
	}
	conn := t.x.conn
	conn.AddTable(t.table)
	for _, c := range chainSpecs {
		if c.name == chainGuard && t.table.Family == nftables.TableFamilyIPv6 {
			continue // route_localnet, which the guard is for, is IPv4 only
		}
		t.chains[c.name] = conn.AddChain(&nftables.Chain{Name: c.name, Table: t.table, Type: c.typ, Hooknum: c.hook, Priority: c.prio})
	}
	if !slices.ContainsFunc(t.x.rules, func(r *nftables.Rule) bool {
		return ruleTag(r) == tagBase && r.Table.Family == t.table.Family
	}) {
		t.add(chainForward, tagBase, ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), accept())
	}
}

// listRules returns every rule in table, none if table is nil.
func listRules(conn *nftables.Conn, table *nftables.Table) ([]*nftables.Rule, error) {
	_, rules, err := readTable(conn, table)
	return rules, err
}

// listRules returns every rule in h's tables (both families).
func (h *Host) listRules(conn *nftables.Conn) ([]*nftables.Rule, error) {
	var out []*nftables.Rule
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		table, err := findTable(conn, fam, h.table)
		if err != nil {
			return nil, err
		}
		rules, err := listRules(conn, table)
		if err != nil {
			return nil, err
		}
		out = append(out, rules...)
	}
	return out, nil
}

// findTable returns the table name of family fam, or nil if it does not exist.
func findTable(conn *nftables.Conn, fam nftables.TableFamily, name string) (*nftables.Table, error) {
	tables, err := conn.ListTablesOfFamily(fam)
	if err != nil {
		return nil, fmt.Errorf("listing nft tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, nil
}

// bridges lists the bridges that have rules in berth's table of family
// fam, sorted.
func (x *txn) bridges(fam nftables.TableFamily) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range x.rules {
		if r.Table.Family != fam {
			continue
		}
		if name, ok := strings.CutPrefix(ruleTag(r), bridgeTag("")); ok && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// hasTagged reports whether a rule tagged tag was there when x began.
func (x *txn) hasTagged(tag string) bool {
	return slices.ContainsFunc(x.rules, func(r *nftables.Rule) bool { return ruleTag(r) == tag })
}

// deleteTagged queues the deletion of every rule tagged tag, in both tables.
func (x *txn) deleteTagged(tag string) error {
	for _, r := range x.rules {
		if ruleTag(r) == tag {
			if err := x.conn.DelRule(r); err != nil {
				return fmt.Errorf("deleting nft rule %q: %w", tag, err)
			}
		}
	}
	return nil
}

// add queues a rule at the end of chain; parts are concatenated.
func (t *nfTable) add(chain, tag string, parts ...[]expr.Any) {
	t.x.conn.AddRule(t.rule(chain, tag, parts))
}

// insert queues a rule at the start of chain.
func (t *nfTable) insert(chain, tag string, parts ...[]expr.Any) {
	t.x.conn.InsertRule(t.rule(chain, tag, parts))
}

func (t *nfTable) rule(chain, tag string, parts [][]expr.Any) *nftables.Rule {
	return &nftables.Rule{
		Table:    t.table,
		Chain:    t.chains[chain],
		Exprs:    slices.Concat(parts...),
		UserData: comment(tag),
	}
}

// comment is rule user data holding tag as the rule's comment.
func comment(tag string) []byte { return userdata.AppendString(nil, userdata.TypeComment, tag) }

// DeleteTable removes berth's whole nftables tables (ip and ip6), and
// with them every rule h made, including h's accept rules in the iptables filter FORWARD chain
// (see EnsureBridge); nothing else in other tables is touched. A missing
// table is not an error.
func (h *Host) DeleteTable() error {
	return h.update("deleting nft table "+h.table, false, h.queueTableDeletion)
}

// queueTableDeletion queues in x the deletion of berth's tables and of its
// rules in the iptables filter FORWARD chain; errNoChange when there are
// none.
func (h *Host) queueTableDeletion(x *txn) error {
	ours := func(tag string) bool { return strings.HasPrefix(tag, h.foreignTagPrefix()) }
	if err := x.deleteForeign(ours); err != nil {
		return err
	}
	queued := slices.ContainsFunc(x.fwd.rules, func(r *nftables.Rule) bool { return ours(ruleTag(r)) })
	for _, t := range []*nfTable{x.ip, x.ip6} {
		if t.exists {
			x.conn.DelTable(t.table)
			queued = true
		}
	}
	if !queued {
		return errNoChange
	}
	return nil
}
