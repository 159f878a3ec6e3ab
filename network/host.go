package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// DefaultTable is the name of the nftables tables of a real berth
// install: one of family ip and, once an IPv6 network or port needs it,
// one of family ip6.
const DefaultTable = "berth"

// Host makes berth's networking objects on this host: bridges, veth links
// into network namespaces and the nftables rules for masquerade and
// published ports. Every host-global name it uses derives from its
// options, so tests never collide with a real berth. A Host serialises its
// bridge and nftables changes with every other berth process's by a
// host-wide lock (HostLock); it is safe for concurrent use.
type Host struct {
	table    string
	stateDir string     // where the sysctl record lives; "" keeps it in memory
	mu       sync.Mutex // orders read-modify-write updates of the nft table
	hostLock string     // the file locked across processes (HostLock)

	sysctlMu  sync.Mutex
	sysctlMem []SysctlChange // the record when stateDir is ""
}

// Option configures a Host.
type Option func(*Host)

// WithTable sets the name of berth's nftables tables (families ip and
// ip6); the default is DefaultTable.
func WithTable(name string) Option {
	return func(h *Host) { h.table = name }
}

// WithStateDir sets the directory where h records the sysctls it changes
// (the integrator passes <runRoot>/network), so that the record survives
// the process and every berth process on the host shares it. Without it
// the record lives in memory and ends with h.
func WithStateDir(dir string) Option {
	return func(h *Host) { h.stateDir = dir }
}

// New returns a Host configured by opts.
func New(opts ...Option) *Host {
	h := &Host{table: DefaultTable, hostLock: HostLock}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Table returns the name of the nftables tables h manages.
func (h *Host) Table() string { return h.table }

// Bridge describes one berth network's bridge.
type Bridge struct {
	Name     string       // interface name, at most 15 characters (see BridgeName)
	Subnet   netip.Prefix // IPv4 subnet of the network
	Gateway  netip.Addr   // the bridge's own address inside Subnet
	Internal bool         // no masquerade and no forwarding to other interfaces
	MTU      int          // 0 keeps the kernel default

	// Subnet6 and Gateway6 make the network dual stack: Subnet6 is an
	// IPv6 prefix (a /64 from DefaultPool6, typically), Gateway6 the
	// bridge's address inside it. Both zero means IPv4 only; one
	// without the other is invalid.
	Subnet6  netip.Prefix
	Gateway6 netip.Addr
}

// Link describes one container's attachment to one network.
type Link struct {
	Bridge       Bridge
	HostVeth     string       // host-side veth name, at most 15 characters (see VethName)
	IfName       string       // name inside the container, e.g. "eth0"
	Addr         netip.Prefix // container address with the subnet's prefix length
	DefaultRoute bool         // add a default route via Bridge.Gateway (and one via Bridge.Gateway6 with Addr6)

	// Addr6 is the container's IPv6 address with Bridge.Subnet6's
	// prefix length; zero means none. It needs a dual-stack Bridge.
	Addr6 netip.Prefix
	MAC   net.HardwareAddr // MAC of IfName; nil means MACFor(Addr)
}

// mac returns the MAC address l's container interface gets.
func (l Link) mac() net.HardwareAddr {
	if l.MAC != nil {
		return l.MAC
	}
	return MACFor(l.Addr.Addr())
}

// PortMapping publishes a container port on the host. ContainerIP's
// family decides the family of the mapping: an IPv4 ContainerIP is
// reached on the host's IPv4 addresses, an IPv6 one on its IPv6
// addresses. A port published on both families is two mappings.
type PortMapping struct {
	// HostIP is the host address the port is published on, of
	// ContainerIP's family; the zero value, 0.0.0.0 and :: all mean every
	// host address of ContainerIP's family (for IPv6 all but ::1, see
	// PublishPorts).
	HostIP        netip.Addr
	HostPort      uint16
	ContainerIP   netip.Addr
	ContainerPort uint16
	Protocol      string // "tcp" or "udp"
	Bridge        string // the bridge ContainerIP lives on
}

func (b Bridge) validate() error {
	var errs []error
	if b.Name == "" || len(b.Name) > maxIfName {
		errs = append(errs, fmt.Errorf("name %q: must be 1 to %d characters", b.Name, maxIfName))
	}
	if !b.Subnet.IsValid() || !b.Subnet.Addr().Is4() {
		errs = append(errs, fmt.Errorf("subnet %v: must be an IPv4 prefix", b.Subnet))
	}
	if !b.Subnet.Contains(b.Gateway) {
		errs = append(errs, fmt.Errorf("gateway %v: must lie inside subnet %v", b.Gateway, b.Subnet))
	}
	if b.MTU < 0 {
		errs = append(errs, fmt.Errorf("mtu %d: must not be negative", b.MTU))
	}
	if b.Subnet6.IsValid() || b.Gateway6.IsValid() {
		if !b.Subnet6.IsValid() || !b.Subnet6.Addr().Is6() || b.Subnet6.Addr().Is4In6() || b.Subnet6.Bits() > 126 {
			errs = append(errs, fmt.Errorf("subnet6 %v: must be an IPv6 prefix of at most 126 bits", b.Subnet6))
		} else if !b.Subnet6.Contains(b.Gateway6) || b.Gateway6 == b.Subnet6.Masked().Addr() {
			errs = append(errs, fmt.Errorf("gateway6 %v: must be a host address inside subnet6 %v", b.Gateway6, b.Subnet6))
		}
	}
	return invalid("bridge", errs)
}

func (l Link) validate() error {
	var errs []error
	if err := l.Bridge.validate(); err != nil {
		errs = append(errs, err)
	}
	if l.HostVeth == "" || len(l.HostVeth) > maxIfName {
		errs = append(errs, fmt.Errorf("host veth %q: must be 1 to %d characters", l.HostVeth, maxIfName))
	}
	if l.IfName == "" || len(l.IfName) > maxIfName {
		errs = append(errs, fmt.Errorf("ifname %q: must be 1 to %d characters", l.IfName, maxIfName))
	}
	if !l.Bridge.Subnet.Contains(l.Addr.Addr()) || l.Addr.Bits() != l.Bridge.Subnet.Bits() {
		errs = append(errs, fmt.Errorf("addr %v: must be an address of %v with its prefix length", l.Addr, l.Bridge.Subnet))
	}
	if l.Addr6.IsValid() && (!l.Bridge.Subnet6.IsValid() || !l.Bridge.Subnet6.Contains(l.Addr6.Addr()) ||
		l.Addr6.Bits() != l.Bridge.Subnet6.Bits() || l.Addr6.Addr() == l.Bridge.Gateway6) {
		errs = append(errs, fmt.Errorf("addr6 %v: must be an address of the bridge's subnet6 %v with its prefix length, not the gateway", l.Addr6, l.Bridge.Subnet6))
	}
	if l.MAC != nil && (len(l.MAC) != 6 || l.MAC[0]&1 == 1) {
		errs = append(errs, fmt.Errorf("mac %v: must be a 6-byte unicast address", l.MAC))
	}
	return invalid("link", errs)
}

func (m PortMapping) validate() error {
	var errs []error
	if !m.ContainerIP.IsValid() || m.ContainerIP.Is4In6() {
		errs = append(errs, fmt.Errorf("container ip %v: must be an IPv4 or IPv6 address", m.ContainerIP))
	} else if m.HostIP.IsValid() && !m.HostIP.IsUnspecified() && (m.HostIP.Is4() != m.ContainerIP.Is4() || m.HostIP.Is4In6()) {
		errs = append(errs, fmt.Errorf("host ip %v: must be of the family of container ip %v", m.HostIP, m.ContainerIP))
	}
	if m.ContainerIP.Is6() && m.HostIP.IsLoopback() {
		errs = append(errs, fmt.Errorf("host ip %v: %w", m.HostIP, ErrIPv6Loopback))
	}
	if m.HostPort == 0 || m.ContainerPort == 0 {
		errs = append(errs, fmt.Errorf("ports %d:%d: must not be 0", m.HostPort, m.ContainerPort))
	}
	if m.Protocol != "tcp" && m.Protocol != "udp" {
		errs = append(errs, fmt.Errorf("protocol %q: must be tcp or udp", m.Protocol))
	}
	if len(m.Bridge) > maxIfName {
		errs = append(errs, fmt.Errorf("bridge %q: longer than %d characters", m.Bridge, maxIfName))
	}
	return invalid("port mapping", errs)
}

// allHosts reports whether m is published on every host address.
func (m PortMapping) allHosts() bool {
	return !m.HostIP.IsValid() || m.HostIP.IsUnspecified()
}

// invalid joins errs, if any, into one error wrapping ErrInvalid.
func invalid(what string, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w: %w", what, ErrInvalid, errors.Join(errs...))
}
