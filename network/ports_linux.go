package network

import (
	"fmt"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/google/nftables/expr"
)

// PublishPorts makes owner's published ports exactly m, replacing the
// rules owner had before in one nft transaction, so there is no moment
// when a port answers neither the old nor the new way. Each mapping
// becomes a DNAT rule in the prerouting chain (traffic from outside and
// from other containers) and one in the output chain (traffic from the
// host itself):
//
//	fib daddr type local [ip daddr HOSTIP] PROTO dport HOSTPORT dnat to CIP:CPORT
//
// Connections to 127.0.0.1 also work because EnsureBridge sets
// route_localnet on the bridge and masquerades their loopback source.
// If a mapping names its Bridge, route_localnet is (re)asserted on it.
//
// A mapping with an IPv6 ContainerIP gets the same rules (`ip6 daddr`,
// `dnat to [CIP]:CPORT`) in berth's ip6 table, made on first use. It
// answers on the host's IPv6 addresses but not on ::1: IPv6 has no
// route_localnet, and the kernel does not route a packet from ::1 out of
// a non-loopback interface, so such a DNAT could never complete. The
// output rule of an all-addresses IPv6 mapping therefore excludes ::1
// (`ip6 daddr != ::1`), so a connection there is refused at once (or
// reaches a host process listening on ::1) instead of hanging; a
// mapping on HostIP ::1 is refused with ErrIPv6Loopback.
func (h *Host) PublishPorts(owner string, m []PortMapping) error {
	return h.SwitchPorts(owner, owner, m)
}

// SwitchPorts moves published ports from owner from to owner to: in one
// nft transaction, from's rules go and to's become exactly m, so that a
// new connection reaches either the old owner or the new one, never
// neither (a start-first rollout). Connections already made keep going to
// from (conntrack keeps their translation). from == to is PublishPorts.
func (h *Host) SwitchPorts(from, to string, m []PortMapping) error {
	what := "publishing ports of " + to
	if from != to {
		what = "switching published ports from " + from + " to " + to
	}
	if err := h.prepareMappings(what, to, m); err != nil {
		return err
	}
	defer phase.Start(to, "nft.update")()
	return h.update(what, true, func(x *txn) error {
		tag := ownerTag(to)
		if err := x.deleteTagged(ownerTag(from)); err != nil {
			return err
		}
		if from != to {
			if err := x.deleteTagged(tag); err != nil {
				return err
			}
		}
		queuePortRules(x, tag, m, (*nfTable).add)
		return nil
	})
}

// prepareMappings validates m and (re)asserts route_localnet on the
// bridges it names, for what (an error's context) of owner.
func (h *Host) prepareMappings(what, owner string, m []PortMapping) error {
	var errs []error
	for i, pm := range m {
		if err := pm.validate(); err != nil {
			errs = append(errs, fmt.Errorf("mapping %d: %w", i, err))
		}
	}
	if err := invalid(what, errs); err != nil {
		return err
	}
	defer phase.Start(owner, "nft.sysctl")()
	for _, pm := range m {
		if pm.Bridge == "" {
			continue
		}
		if err := h.setSysctl("net/ipv4/conf/"+pm.Bridge+"/route_localnet", "1"); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// queuePortRules queues in x, with put (add or insert), the DNAT rules of
// m tagged tag: one in the prerouting chain, one in the output chain per
// mapping (see PublishPorts).
func queuePortRules(x *txn, tag string, m []PortMapping, put func(t *nfTable, chain, tag string, parts ...[]expr.Any)) {
	for _, pm := range m {
		t := x.ip
		if pm.ContainerIP.Is6() {
			t = x.v6()
		}
		match := localDaddr()
		if !pm.allHosts() {
			match = append(match, ipAddr(offDaddr, pm.HostIP)...)
		}
		match = append(match, l4Port(pm.Protocol, pm.HostPort)...)
		target := dnat(pm.ContainerIP, pm.ContainerPort)
		put(t, chainPrerouting, tag, match, target)
		if pm.ContainerIP.Is6() && pm.allHosts() {
			put(t, chainOutput, tag, notIPAddr(offDaddr, loopback6), match, target)
		} else {
			put(t, chainOutput, tag, match, target)
		}
	}
}

// UnpublishPorts removes every port rule of owner in one transaction.
// An owner without rules is not an error.
func (h *Host) UnpublishPorts(owner string) error {
	return h.update("unpublishing ports of "+owner, false, func(x *txn) error {
		if !x.hasTagged(ownerTag(owner)) {
			return errNoChange // most containers publish nothing: no commit
		}
		return x.deleteTagged(ownerTag(owner))
	})
}
