package spec

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The typed values of a service that the stack file writes as strings.
// Each is parsed once, while loading, and keeps its canonical text form
// (MarshalText), so that config hashes do not change with the type.

// VolumesFrom is one volumes_from entry: the service, or container, whose
// volumes a service's containers mount too.
type VolumesFrom struct {
	Container bool   // Name is a container's name, not a service's
	Name      string // the service or container
	Mode      string // "", "ro" or "rw"
}

// ReadOnly reports whether the volumes are mounted read-only.
func (v VolumesFrom) ReadOnly() bool { return v.Mode == "ro" }

// MarshalText is the canonical form: "service:NAME[:MODE]" or "container:NAME[:MODE]".
func (v VolumesFrom) MarshalText() ([]byte, error) {
	kind := "service"
	if v.Container {
		kind = "container"
	}
	s := kind + ":" + v.Name
	if v.Mode != "" {
		s += ":" + v.Mode
	}
	return []byte(s), nil
}

// UnmarshalText parses the canonical form.
func (v *VolumesFrom) UnmarshalText(b []byte) error {
	kind, rest, ok := strings.Cut(string(b), ":")
	name, mode, _ := strings.Cut(rest, ":")
	if !ok || (kind != "service" && kind != "container") || name == "" || (mode != "" && mode != "ro" && mode != "rw") {
		return fmt.Errorf("volumes_from %q: want service:NAME[:ro|rw] or container:NAME[:ro|rw]", b)
	}
	*v = VolumesFrom{Container: kind == "container", Name: name, Mode: mode}
	return nil
}

// ExtraHost is one extra_hosts entry: a name and its address, or the
// host's gateway address ("host-gateway"), which only the host knows.
type ExtraHost struct {
	Name        string
	IP          netip.Addr // invalid when HostGateway
	HostGateway bool
}

// MarshalText is the canonical form: "NAME:IP" or "NAME:host-gateway".
func (h ExtraHost) MarshalText() ([]byte, error) {
	addr := "host-gateway"
	if !h.HostGateway {
		addr = h.IP.String()
	}
	return []byte(h.Name + ":" + addr), nil
}

// UnmarshalText parses the canonical form.
func (h *ExtraHost) UnmarshalText(b []byte) error {
	name, addr, ok := strings.Cut(string(b), ":")
	if !ok || name == "" {
		return fmt.Errorf("extra_hosts %q: want NAME:IP", b)
	}
	if addr == "host-gateway" {
		*h = ExtraHost{Name: name, HostGateway: true}
		return nil
	}
	ip, err := netip.ParseAddr(strings.Trim(addr, "[]"))
	if err != nil {
		return fmt.Errorf("extra_hosts %q: %w", b, err)
	}
	*h = ExtraHost{Name: name, IP: ip}
	return nil
}

// AddrText is an address as the stack file writes it: "" when unset.
func AddrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// PortRange is the host side of a published port: one port (Lo == Hi) or
// a range to take one free port from. The zero PortRange asks for an
// ephemeral port.
type PortRange struct {
	Lo, Hi uint16
}

// IsZero reports whether the range asks for an ephemeral port.
func (r PortRange) IsZero() bool { return r.Lo == 0 && r.Hi == 0 }

// String is "8080" or "8000-8010"; "" for an ephemeral port.
func (r PortRange) String() string {
	switch {
	case r.IsZero():
		return ""
	case r.Lo == r.Hi:
		return strconv.Itoa(int(r.Lo))
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// MarshalText is String.
func (r PortRange) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses "PORT" or "LO-HI".
func (r *PortRange) UnmarshalText(b []byte) error {
	p, err := ParsePortRange(string(b))
	*r = p
	return err
}

// ParsePortRange parses a published port, "PORT" or "LO-HI"; "" is the
// zero (ephemeral) range.
func ParsePortRange(s string) (PortRange, error) {
	if s == "" {
		return PortRange{}, nil
	}
	loS, hiS, isRange := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(loS, 10, 16)
	if err != nil || lo == 0 {
		return PortRange{}, fmt.Errorf("published port %q is not a port number", s)
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseUint(hiS, 10, 16); err != nil || hi < lo {
			return PortRange{}, fmt.Errorf("published port range %q is invalid", s)
		}
	}
	return PortRange{Lo: uint16(lo), Hi: uint16(hi)}, nil
}

// ContainerMounts are the mounts of a service's containers before
// volumes_from, configs, secrets and /etc files: the service's own, then an
// anonymous volume at each of the image's VOLUME paths (imageVolumes) the
// service does not mount something at, as in Docker.
func ContainerMounts(svc Service, imageVolumes []string) []Mount {
	out := slices.Clone(svc.Mounts)
	covered := map[string]bool{}
	for _, m := range out {
		covered[m.Target] = true
	}
	for _, path := range imageVolumes {
		if !covered[path] {
			out = append(out, Mount{Type: MountVolume, Target: path})
			covered[path] = true
		}
	}
	return out
}
