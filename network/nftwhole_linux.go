package network

import (
	"fmt"
	"slices"

	"github.com/google/nftables"
)

// readTable returns the chains of table by name and every rule in them;
// none if table is nil.
func readTable(conn *nftables.Conn, table *nftables.Table) (map[string]*nftables.Chain, []*nftables.Rule, error) {
	if table == nil {
		return nil, nil, nil
	}
	chains, err := conn.ListChainsOfTableFamily(table.Family)
	if err != nil {
		return nil, nil, fmt.Errorf("listing nft chains: %w", err)
	}
	have := map[string]*nftables.Chain{}
	var rules []*nftables.Rule
	for _, c := range chains {
		if c.Table.Name != table.Name {
			continue
		}
		have[c.Name] = c
		rs, err := conn.GetRules(table, c)
		if err != nil {
			return nil, nil, fmt.Errorf("listing rules of nft chain %s/%s: %w", table.Name, c.Name, err)
		}
		rules = append(rules, rs...)
	}
	return have, rules, nil
}

// whole says whether t existed when the txn began with every chain
// berth makes in it and its base rule: then create need queue nothing.
// Re-adding an existing table and its base chains changes nothing but
// makes the kernel's commit take milliseconds longer (a start-first
// rollout's port switch, every publish).
func (t *nfTable) whole() bool {
	if !t.exists {
		return false
	}
	for _, c := range chainSpecs {
		if c.name == chainGuard && t.table.Family == nftables.TableFamilyIPv6 {
			continue // see create
		}
		if t.have[c.name] == nil {
			return false
		}
	}
	return slices.ContainsFunc(t.x.rules, func(r *nftables.Rule) bool {
		return ruleTag(r) == tagBase && r.Table.Family == t.table.Family
	})
}
