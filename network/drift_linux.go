package network

import (
	"fmt"

	"github.com/google/nftables"
)

// Tags reads berth's nft rules once and reports which bridges and which
// owners have rules, so that an observer can find what a firewall reload or
// an `nft flush ruleset` took away.
func (h *Host) Tags() (Tags, error) {
	conn, err := nftables.New(nftables.AsLasting()) // one socket for every dump
	if err != nil {
		return Tags{}, fmt.Errorf("opening nftables: %w", err)
	}
	defer conn.CloseLasting()
	rules, err := h.listRules(conn)
	if err != nil {
		return Tags{}, err
	}
	t := Tags{tags: map[string]family{}}
	for _, r := range rules {
		f := familyV4
		if r.Table != nil && r.Table.Family == nftables.TableFamilyIPv6 {
			f = familyV6
		}
		t.tags[ruleTag(r)] |= f
	}
	return t, nil
}

// family is a set of address families a tag has rules in.
type family uint8

const (
	familyV4 family = 1 << iota
	familyV6
)

// StableTags is Tags, read a second time and merged when the first read
// lacks a tag that complete looks for: a dump that another process's
// change interrupted can miss rules (the nftables library does not flag
// it), and a rule missing from one read but not the other is not lost.
// What is really gone is absent from both; a first read that has all
// complete wants is enough.
func (h *Host) StableTags(complete func(Tags) bool) (Tags, error) {
	a, err := h.Tags()
	if err != nil || complete(a) {
		return a, err
	}
	b, err := h.Tags()
	if err != nil {
		return a, err
	}
	for k, f := range b.tags {
		a.tags[k] |= f
	}
	return a, nil
}

// Tags is a snapshot of the rule tags in berth's tables, by family.
type Tags struct{ tags map[string]family }

// Bridge reports whether bridge name has its IPv4 rules and, when dual is
// set (the network has IPv6), its IPv6 rules too: a flush of one family's
// table is drift as much as a flush of both.
func (t Tags) Bridge(name string, dual bool) bool {
	want := familyV4
	if dual {
		want |= familyV6
	}
	return t.tags[bridgeTag(name)]&want == want
}

// Owner reports whether owner (a container) has published-port rules.
func (t Tags) Owner(owner string) bool { return t.tags[ownerTag(owner)] != 0 }
