package network

import (
	"fmt"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
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
//	iifname BR accept                                  (egress, and between containers with br_netfilter)
//	oifname BR ct state established,related accept     (replies)
//	oifname BR ct status dnat accept                   (published ports reached from outside)
//
// An Internal bridge gets only `iifname BR oifname BR accept`.
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
// foreign FORWARD chain (see the comment on foreignTable).
func foreignAcceptRules(b Bridge) [][]expr.Any {
	if b.Internal {
		return [][]expr.Any{slices.Concat(iif(b.Name), oif(b.Name), accept())}
	}
	return [][]expr.Any{
		slices.Concat(iif(b.Name), accept()),
		slices.Concat(oif(b.Name), ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), accept()),
		slices.Concat(oif(b.Name), ctDNAT(), accept()),
	}
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
