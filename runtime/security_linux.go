package runtime

import (
	"errors"
	"fmt"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/sys/capability"
	"github.com/moby/sys/devices"
	"github.com/moby/sys/user"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/apparmor"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/selinux/go-selinux"
	"github.com/opencontainers/selinux/go-selinux/label"
)

// findHostFacts looks up on the host (and in the container's rootfs, for
// group names) what applySecurity needs for s; shmRoot holds the /dev/shm
// of shareable containers.
func findHostFacts(stateRoot, shmRoot, rootfs string, s Security) (hostFacts, error) {
	h := hostFacts{CgroupV2: cgroups.IsCgroup2UnifiedMode(), AppArmor: apparmor.IsEnabled(), SELinuxHost: selinux.GetEnabled()}
	known, err := capability.ListSupported()
	if err != nil {
		return h, fmt.Errorf("listing the kernel's capabilities: %w", err)
	}
	for _, c := range known {
		// All is what berth holds: root in a container may lack some.
		if held, err := capability.GetBound(c); err == nil && held {
			h.AllCaps = append(h.AllCaps, "CAP_"+strings.ToUpper(c.String()))
		}
	}
	if s.Privileged {
		all, err := devices.HostDevices()
		if err != nil {
			return h, fmt.Errorf("listing the host's devices: %w", err)
		}
		for _, d := range all {
			h.Devices = append(h.Devices, linuxDevice(d.Path, d))
		}
	} else {
		for _, d := range s.Devices {
			dev, err := devices.DeviceFromPath(d.Source, d.Permissions)
			if errors.Is(err, devices.ErrNotADevice) {
				return h, fmt.Errorf("%w: device %s: not a device node (a directory of devices is not supported yet)", ErrInvalidConfig, d.Source)
			}
			if err != nil {
				return h, fmt.Errorf("device %s: %w", d.Source, err)
			}
			h.Devices = append(h.Devices, linuxDevice(d.Target, dev))
		}
	}
	if len(s.GroupAdd) > 0 {
		group, err := openInRoot(rootfs, "etc/group")
		if err != nil {
			return h, err
		}
		defer closeIf(group)
		var r = limit(group)
		if group == nil {
			r = strings.NewReader("")
		}
		if h.GroupAdd, err = user.GetAdditionalGroups(s.GroupAdd, r); err != nil {
			return h, fmt.Errorf("%w: group_add: %v", ErrInvalidConfig, err)
		}
	}
	if name, ok := strings.CutPrefix(s.IpcMode, "container:"); ok {
		pid, err := runningPid(stateRoot, name, "ipc")
		if err != nil {
			return h, err
		}
		if h.IpcHost, err = inHostIpc(stateRoot, name); err != nil {
			return h, err
		}
		if !h.IpcHost {
			h.IpcNS = fmt.Sprintf("/proc/%d/ns/ipc", pid)
			if h.ShmPath, err = shmOf(shmRoot, name); err != nil {
				return h, err
			}
		}
	}
	if name, ok := strings.CutPrefix(s.PidMode, "container:"); ok {
		pid, err := runningPid(stateRoot, name, "pid")
		if err != nil {
			return h, err
		}
		h.PidNS = fmt.Sprintf("/proc/%d/ns/pid", pid)
	}
	if h.SELinuxHost && labelsAsked(s.Label) {
		if h.SELinux, h.MountLabel, err = label.InitLabels(s.Label); err != nil {
			return h, fmt.Errorf("%w: security_opt label: %v", ErrInvalidConfig, err)
		}
	}
	return h, nil
}

// processRlimits converts the spec's resource limits for libcontainer,
// which sets those of the process it runs (its spec conversion leaves
// them out).
func processRlimits(rls []specs.POSIXRlimit) ([]configs.Rlimit, error) {
	var out []configs.Rlimit
	for _, r := range rls {
		u := units.Ulimit{Name: strings.ToLower(strings.TrimPrefix(r.Type, "RLIMIT_"))}
		rl, err := u.GetRlimit()
		if err != nil {
			return nil, fmt.Errorf("%w: rlimit %s: %v", ErrInvalidConfig, r.Type, err)
		}
		out = append(out, configs.Rlimit{Type: rl.Type, Soft: r.Soft, Hard: r.Hard})
	}
	return out, nil
}

// runningPid is the init pid of container name, whose kind namespace
// another joins; an error names it when it is not running.
func runningPid(stateRoot, name, kind string) (int, error) {
	o, err := loadOrphan(stateRoot, name)
	if err != nil {
		return 0, fmt.Errorf("%s: container:%s: %w", kind, name, err)
	}
	if o != nil {
		if run, pid, _ := o.running(); run {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("%w: %s: container:%s: cannot join its %s namespace: it is not running", ErrNotRunning, kind, name, kind)
}

// inHostIpc reports whether container name runs in the host's IPC
// namespace (its ipc is host): libcontainer made it no namespace of its own.
func inHostIpc(stateRoot, name string) (bool, error) {
	o, err := loadOrphan(stateRoot, name)
	if err != nil || o == nil {
		return false, err
	}
	cfg := o.ctr.Config()
	return !cfg.Namespaces.Contains(configs.NEWIPC), nil
}

// linuxDevice is the spec's device made at path from a host device.
func linuxDevice(path string, d *config.Device) specs.LinuxDevice {
	mode := d.FileMode
	uid, gid := d.Uid, d.Gid
	return specs.LinuxDevice{Path: path, Type: string(d.Type), Major: d.Major, Minor: d.Minor, FileMode: &mode, UID: &uid, GID: &gid}
}
