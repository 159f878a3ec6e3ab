// Package network makes container networking on one host: bridges and veth
// pairs with netlink, named network namespaces, address allocation, nftables
// rules for masquerade and published ports in berth's own table, and the
// /etc/hosts and /etc/resolv.conf files for service discovery.
package network
