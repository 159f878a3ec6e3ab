package engine

import (
	"fmt"

	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
)

// securityConfig is the runtime's confinement of a service's containers;
// a seccomp profile given by path is read with readFile, as Docker's
// client reads it, so that the container carries its content.
func securityConfig(s spec.Security, readFile func(string) ([]byte, error)) (runtime.Security, error) {
	out := runtime.Security{CapAdd: s.CapAdd, CapDrop: s.CapDrop, Privileged: s.Privileged, Seccomp: s.Seccomp,
		NoNewPrivileges: s.NoNewPrivileges, AppArmor: s.AppArmor, Label: s.Label, DeviceRules: s.DeviceCgroupRules,
		GroupAdd: s.GroupAdd, CgroupNS: s.Cgroup}
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
