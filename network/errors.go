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
