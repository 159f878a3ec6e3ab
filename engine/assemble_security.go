package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
)

// securityConfig is the runtime's confinement of a service's containers;
// a seccomp profile given by path is read with readFile, as Docker's
// client reads it, so that the container carries its content.
func securityConfig(s spec.Security, readFile func(string) ([]byte, error)) (runtime.Security, error) {
	out := runtime.Security{CapAdd: s.CapAdd, CapDrop: s.CapDrop, Privileged: s.Privileged, Seccomp: s.Seccomp,
		NoNewPrivileges: s.NoNewPrivileges, AppArmor: s.AppArmor, Label: s.Label, DeviceRules: s.DeviceCgroupRules,
		GroupAdd: s.GroupAdd, CgroupNS: s.Cgroup, Sysctls: s.Sysctls, ShmSize: s.ShmSize, UtsHost: s.Uts == "host",
		OomScoreAdj: int(s.OomScoreAdj), IpcMode: namespaceMode(s.Ipc, s.IpcContainer), PidMode: namespaceMode(s.Pid, s.PidContainer)}
	for _, name := range slices.Sorted(maps.Keys(s.Ulimits)) {
		u := s.Ulimits[name]
		out.Rlimits = append(out.Rlimits, runtime.Rlimit{Type: "RLIMIT_" + strings.ToUpper(name), Soft: uint64(u.Soft), Hard: uint64(u.Hard)})
	}
	for _, d := range s.Devices {
		out.Devices = append(out.Devices, runtime.Device{Source: d.Source, Target: d.Target, Permissions: d.Permissions})
	}
	if s.Seccomp != "" && s.Seccomp != spec.SeccompUnconfined {
		b, err := readFile(s.Seccomp)
		if err != nil {
			return out, fmt.Errorf("reading seccomp profile: %w", err)
		}
		out.Seccomp = string(b)
	}
	return out, nil
}

// namespaceMode is the runtime's ipc or pid mode: "host", "shareable", the
// container a service: or container: mode joins, or "" (private).
func namespaceMode(mode, container string) string {
	switch {
	case mode == "host", mode == runtime.IpcShareable:
		return mode
	case container != "":
		return "container:" + container
	}
	return ""
}

// ulimitAbove is the first ulimit whose hard limit is above the host's
// (hostHard: the hard limit berth runs with, by name), an error naming it;
// raising a hard limit needs CAP_SYS_RESOURCE, which canRaise says berth
// holds.
func ulimitAbove(ul map[string]spec.Ulimit, hostHard func(name string) (uint64, error), canRaise bool) error {
	if canRaise {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(ul)) {
		max, err := hostHard(name)
		if err != nil {
			return fmt.Errorf("ulimits %s: %w", name, err)
		}
		if h := uint64(ul[name].Hard); h > max {
			return fmt.Errorf("ulimits %s: hard limit %d is above this host's %d, and berth lacks CAP_SYS_RESOURCE to raise it", name, h, max)
		}
	}
	return nil
}
