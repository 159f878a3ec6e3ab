package network

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

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

// txn is one nftables transaction on berth's table: it reads the current
// rules once, then queues table and chain creation, rule deletions and
// additions, and applies them all in one Flush, so the kernel sees either
// none or all of the change.
type txn struct {
	conn        *nftables.Conn
	table       *nftables.Table
	chains      map[string]*nftables.Chain
	rules       []*nftables.Rule // the rules present when the txn began
	tableExists bool             // whether h's table existed when the txn began
	fwd         foreignForward   // the iptables(-nft) filter FORWARD chain, if any
}

// updateAttempts bounds the retries of a transaction that lost a race
// with another process changing the table between read and commit.
const updateAttempts = 3

// update runs fn in a transaction on h's table and commits it. With
// create, the table, its chains and its base rule are created first if
// missing (in the same transaction); without, a missing table stays
// missing and fn can only delete. If the commit fails because a rule fn
// deleted was already gone, the whole read-modify-commit is repeated.
func (h *Host) update(what string, create bool, fn func(*txn) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var err error
	for range updateAttempts {
		var x *txn
		if x, err = h.begin(create); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err = fn(x); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err = x.conn.Flush(); !errors.Is(err, unix.ENOENT) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s: applying nft table %s: %w", what, h.table, err)
	}
	return nil
}

// begin reads h's rules and, with create, queues the creation of the
// table, its chains and its base rule (no-ops for those that exist).
func (h *Host) begin(create bool) (*txn, error) {
	conn, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("opening nftables: %w", err)
	}
	x := &txn{conn: conn, table: &nftables.Table{Name: h.table, Family: nftables.TableFamilyIPv4}, chains: map[string]*nftables.Chain{}}
	existing, err := h.findTable(conn)
	if err != nil {
		return nil, err
	}
	x.tableExists = existing != nil
	if x.rules, err = h.listRules(conn); err != nil {
		return nil, err
	}
	if x.fwd, err = readForeignForward(conn); err != nil {
		return nil, err
	}
	if !create {
		return x, nil
	}
	conn.AddTable(x.table)
	for _, c := range chainSpecs {
		x.chains[c.name] = conn.AddChain(&nftables.Chain{Name: c.name, Table: x.table, Type: c.typ, Hooknum: c.hook, Priority: c.prio})
	}
	if !slices.ContainsFunc(x.rules, func(r *nftables.Rule) bool { return ruleTag(r) == tagBase }) {
		x.add(chainForward, tagBase, ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), accept())
	}
	return x, nil
}

// listRules returns every rule in h's table, none if the table is absent.
func (h *Host) listRules(conn *nftables.Conn) ([]*nftables.Rule, error) {
	table, err := h.findTable(conn)
	if err != nil || table == nil {
		return nil, err
	}
	chains, err := conn.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, fmt.Errorf("listing nft chains: %w", err)
	}
	var rules []*nftables.Rule
	for _, c := range chains {
		if c.Table.Name != h.table {
			continue
		}
		rs, err := conn.GetRules(table, c)
		if err != nil {
			return nil, fmt.Errorf("listing rules of nft chain %s/%s: %w", h.table, c.Name, err)
		}
		rules = append(rules, rs...)
	}
	return rules, nil
}

// findTable returns h's table, or nil if it does not exist.
func (h *Host) findTable(conn *nftables.Conn) (*nftables.Table, error) {
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, fmt.Errorf("listing nft tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == h.table {
			return t, nil
		}
	}
	return nil, nil
}

// deleteTagged queues the deletion of every rule tagged tag.
// bridges lists the bridges that have rules in berth's table, sorted.
func (x *txn) bridges() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range x.rules {
		if name, ok := strings.CutPrefix(ruleTag(r), bridgeTag("")); ok && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

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
func (x *txn) add(chain, tag string, parts ...[]expr.Any) {
	x.conn.AddRule(x.rule(chain, tag, parts))
}

// insert queues a rule at the start of chain.
func (x *txn) insert(chain, tag string, parts ...[]expr.Any) {
	x.conn.InsertRule(x.rule(chain, tag, parts))
}

func (x *txn) rule(chain, tag string, parts [][]expr.Any) *nftables.Rule {
	return &nftables.Rule{
		Table:    x.table,
		Chain:    x.chains[chain],
		Exprs:    slices.Concat(parts...),
		UserData: comment(tag),
	}
}

// comment is rule user data holding tag as the rule's comment.
func comment(tag string) []byte { return userdata.AppendString(nil, userdata.TypeComment, tag) }

// DeleteTable removes berth's whole nftables table, and with it every rule
// h made, including h's accept rules in the iptables filter FORWARD chain
// (see EnsureBridge); nothing else in other tables is touched. A missing
// table is not an error.
func (h *Host) DeleteTable() error {
	return h.update("deleting nft table "+h.table, false, func(x *txn) error {
		if err := x.deleteForeign(func(tag string) bool { return strings.HasPrefix(tag, h.foreignTagPrefix()) }); err != nil {
			return err
		}
		if x.tableExists {
			x.conn.DelTable(x.table)
		}
		return nil
	})
}
