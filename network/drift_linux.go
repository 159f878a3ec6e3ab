package network

import (
	"fmt"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
)

// Tags reads berth's nft rules once and reports which bridges and which
// owners have rules, so that an observer can find what a firewall reload or
// an `nft flush ruleset` took away.
func (h *Host) Tags() (Tags, error) {
	conn, err := nftables.New()
	if err != nil {
		return Tags{}, fmt.Errorf("opening nftables: %w", err)
	}
	rules, err := h.listRules(conn)
	if err != nil {
		return Tags{}, err
	}
	t := Tags{tags: map[string]bool{}}
	for _, r := range rules {
		t.tags[ruleTag(r)] = true
	}
	return t, nil
}

// StableTags is Tags read twice and merged: a dump that another process's
// change interrupted can miss rules (the nftables library does not flag
// it), and a rule missing from one read but not the other is not lost.
// What is really gone is absent from both.
func (h *Host) StableTags() (Tags, error) {
	a, err := h.Tags()
	if err != nil {
		return a, err
	}
	b, err := h.Tags()
	if err != nil {
		return a, err
	}
	for k := range b.tags {
		a.tags[k] = true
	}
	return a, nil
}

// Tags is a snapshot of the rule tags in berth's tables.
type Tags struct{ tags map[string]bool }

// Bridge reports whether bridge name has its rules.
func (t Tags) Bridge(name string) bool { return t.tags[bridgeTag(name)] }

// Owner reports whether owner (a container) has published-port rules.
func (t Tags) Owner(owner string) bool { return t.tags[ownerTag(owner)] }

// VethOnBridge reports whether host veth name exists and is a port of
// bridge: false after the bridge was deleted and made again, which leaves
// the container's link detached.
func VethOnBridge(name, bridge string) (bool, error) {
	veth, err := netlink.LinkByName(name)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up %s: %w", name, err)
	}
	br, err := bridgeLink(bridge)
	if err != nil || br == nil {
		return false, err
	}
	return veth.Attrs().MasterIndex == br.Index, nil
}
