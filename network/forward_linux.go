package network

import (
	"fmt"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// The chain Docker (through iptables-nft) filters forwarded traffic in.
// Docker sets its policy to drop, and a drop verdict in any base chain of
// the forward hook is final, whatever berth's own table accepts. So
// while that chain drops by default, berth adds accept rules for its
// bridges there, tagged with berth's table name so that exactly those can
// be removed again; nothing else in that table is ever changed.
//
// The rules are appended, so Docker's DOCKER-USER jump and its isolation
// chains still see berth's traffic first; they are the ones Docker uses
// for its own bridges, and netavark for podman's:
//
//	-i BR -j ACCEPT                                           (egress, and between containers with br_netfilter)
//	-o BR -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT (replies)
//	-o BR -m conntrack --ctstate DNAT -j ACCEPT                (published ports reached from outside)
//
// An Internal bridge gets only `-i BR -o BR -j ACCEPT`.
// Only iptables-nft's chain is seen: rules of iptables-legacy live
// outside nftables and are not handled.
const (
	foreignTable = "filter"
	foreignChain = "FORWARD"
)

// foreignForward is the filter FORWARD chain as a transaction found it.
type foreignForward struct {
	chain *nftables.Chain  // nil if there is no such chain
	rules []*nftables.Rule // its rules
}

// drops reports whether the chain exists with a drop policy.
func (f foreignForward) drops() bool {
	return f.chain != nil && f.chain.Policy != nil && *f.chain.Policy == nftables.ChainPolicyDrop
}

// readForeignForward finds the filter FORWARD chain of family ip and its
// rules; a missing table or chain is no error.
func readForeignForward(conn *nftables.Conn) (foreignForward, error) {
	chains, err := conn.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return foreignForward{}, fmt.Errorf("listing nft chains: %w", err)
	}
	for _, c := range chains {
		if c.Table.Name != foreignTable || c.Name != foreignChain || c.Hooknum == nil {
			continue
		}
		rules, err := conn.GetRules(c.Table, c)
		if err != nil {
			return foreignForward{}, fmt.Errorf("listing rules of nft chain ip %s %s: %w", foreignTable, foreignChain, err)
		}
		return foreignForward{chain: c, rules: rules}, nil
	}
	return foreignForward{}, nil
}

// foreignTagPrefix starts the tag of every rule h adds to a foreign chain.
func (h *Host) foreignTagPrefix() string { return "berth:table=" + h.table + ":" }

// foreignBridgeTag tags the foreign accept rules of bridge name.
func (h *Host) foreignBridgeTag(name string) string {
	return h.foreignTagPrefix() + "bridge=" + name
}

// foreignAcceptRules returns the expressions of b's accept rules for the
// foreign FORWARD chain (see the comment on foreignTable). They are built
// the way iptables-nft builds `-i BR`, `-m conntrack --ctstate ...` and
// `-j ACCEPT` (an exact interface name compare, xt conntrack matches, a
// counter), so that iptables-nft, which Docker drives, can still list and
// edit the chain; it refuses chains holding native ct expressions.
func foreignAcceptRules(b Bridge) [][]expr.Any {
	acceptCounted := []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictAccept}}
	in := iptIfname(expr.MetaKeyIIFNAME, b.Name)
	out := iptIfname(expr.MetaKeyOIFNAME, b.Name)
	if b.Internal {
		return [][]expr.Any{slices.Concat(in, out, acceptCounted)}
	}
	return [][]expr.Any{
		slices.Concat(in, acceptCounted),
		slices.Concat(out, xtCtState(xtStateEstablished|xtStateRelated), acceptCounted),
		slices.Concat(out, xtCtState(xtStateDNAT), acceptCounted),
	}
}

// iptIfname: `-i NAME` / `-o NAME` as iptables-nft writes it, comparing
// the name and its terminating NUL.
func iptIfname(key expr.MetaKey, name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: append([]byte(name), 0)},
	}
}

// States of xt_conntrack's --ctstate (XT_CONNTRACK_STATE_BIT and the
// virtual SNAT/DNAT states of linux/netfilter/xt_conntrack.h).
const (
	xtStateEstablished = 1 << 1
	xtStateRelated     = 1 << 2
	xtStateDNAT        = 1 << 7
)

// xtCtState: `-m conntrack --ctstate STATES`, revision 3 as iptables
// 1.8 uses.
func xtCtState(states uint16) []expr.Any {
	info := &xt.ConntrackMtinfo3{}
	info.MatchFlags = uint16(xt.ConntrackState)
	info.StateMask = states
	return []expr.Any{&expr.Match{Name: "conntrack", Rev: 3, Info: info}}
}

// allowInForeignForward queues b's accept rules in the foreign FORWARD
// chain, replacing any h made before for b, if the chain drops by default.
// Rules already exactly in place are left alone, so calling it again
// changes nothing.
func (x *txn) allowInForeignForward(tag string, b Bridge) error {
	if !x.fwd.drops() {
		return nil
	}
	want := foreignAcceptRules(b)
	have := 0
	for _, r := range x.fwd.rules {
		if ruleTag(r) == tag {
			have++
		}
	}
	if have == len(want) { // the rule set differs in size for each shape
		return nil
	}
	if err := x.deleteForeign(func(t string) bool { return t == tag }); err != nil {
		return err
	}
	for _, e := range want {
		x.conn.AddRule(&nftables.Rule{Table: x.fwd.chain.Table, Chain: x.fwd.chain, Exprs: e, UserData: comment(tag)})
	}
	return nil
}

// deleteForeign queues the deletion of the foreign FORWARD rules whose
// tag matches; it never touches a rule without a matching tag.
func (x *txn) deleteForeign(match func(tag string) bool) error {
	for _, r := range x.fwd.rules {
		if tag := ruleTag(r); tag != "" && match(tag) {
			if err := x.conn.DelRule(r); err != nil {
				return fmt.Errorf("deleting nft rule %q from ip %s %s: %w", tag, foreignTable, foreignChain, err)
			}
		}
	}
	return nil
}
