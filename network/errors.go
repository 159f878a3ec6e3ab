package network

import "errors"

// ErrExhausted is returned when a pool of subnets or a subnet of addresses
// has nothing left to hand out.
var ErrExhausted = errors.New("address space exhausted")

// ErrInvalid is returned when an input (bridge, link, port mapping) is
// malformed; the wrapped message names the offending field.
var ErrInvalid = errors.New("invalid network configuration")

// ErrNotBridge is returned when an interface with a bridge's name exists
// but is not a bridge, so berth refuses to adopt or delete it.
var ErrNotBridge = errors.New("interface exists and is not a bridge")

// ErrIPv6Loopback is returned (with ErrInvalid) for a port mapping of an
// IPv6 container on host address ::1, which the kernel cannot forward to
// a container: IPv6 has no route_localnet (see PublishPorts).
var ErrIPv6Loopback = errors.New("ports cannot be published on the IPv6 loopback address")
