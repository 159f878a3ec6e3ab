package runtime

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// SpecInput holds the facts BuildSpec needs beside the Config, found by
// the shim: where the rootfs is mounted and who the user is.
type SpecInput struct {
	Rootfs       string    // absolute path of the mounted root filesystem
	CgroupParent string    // cgroup parent, e.g. "berth"
	User         Identity  // resolved Config.User
	host         hostFacts // what the host offers for Config.Security (findHostFacts)
}

// BuildSpec turns a Config into the OCI runtime spec of its container,
// with Docker's defaults. It does no I/O.
func BuildSpec(c Config, in SpecInput) (*specs.Spec, error) {
	if !path.IsAbs(in.Rootfs) {
		return nil, fmt.Errorf("%w: rootfs %q is not absolute", ErrInvalidConfig, in.Rootfs)
	}
	cwd := c.Cwd
	if cwd == "" {
		cwd = "/"
	}
	caps := slices.Clone(defaultCapabilities)
	args, mounts := withInit(c)
	userMounts, err := specMounts(mounts)
	if err != nil {
		return nil, err
	}
	s := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: in.Rootfs, Readonly: c.ReadOnlyRootfs},
		Process: &specs.Process{
			Args: args,
			Env:  processEnv(c.Env, c.Hostname, in.User.Home),
			Cwd:  cwd,
			User: specs.User{
				UID:            uint32(in.User.UID),
				GID:            uint32(in.User.GID),
				AdditionalGids: toUint32s(in.User.AdditionalGIDs),
			},
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  caps,
				Effective: caps,
				Permitted: caps,
			},
		},
		Hostname:    c.Hostname,
		Domainname:  c.Domainname,
		Mounts:      mergeMounts(defaultMounts(), userMounts),
		Annotations: c.Labels,
		Linux: &specs.Linux{
			CgroupsPath: "/" + path.Join(in.CgroupParent, c.ID),
			Namespaces:  namespaces(c.NetNS),
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			MaskedPaths:   slices.Clone(maskedPaths),
			ReadonlyPaths: slices.Clone(readonlyPaths),
		},
	}
	if err := applySecurity(s, c.Security, in.host); err != nil {
		return nil, err
	}
	return s, nil
}

// namespaces are pid, mount, uts, ipc and net; net joins netns when it is
// a path, is absent for "host" and fresh for "".
func namespaces(netns string) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{
		{Type: specs.PIDNamespace},
		{Type: specs.MountNamespace},
		{Type: specs.UTSNamespace},
		{Type: specs.IPCNamespace},
	}
	switch netns {
	case NetNSHost:
	case "":
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	default:
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netns})
	}
	return ns
}

// specMounts converts the Config's mounts, parents before children.
func specMounts(ms []Mount) ([]specs.Mount, error) {
	out := make([]specs.Mount, 0, len(ms))
	for _, m := range ms {
		sm := specs.Mount{Destination: path.Clean(m.Target)}
		switch m.Type {
		case "bind":
			sm.Type, sm.Source = "bind", m.Source
			sm.Options = append([]string{"rbind", "rprivate"}, m.Options...)
		case "tmpfs":
			sm.Type, sm.Source = "tmpfs", "tmpfs"
			sm.Options = append(slices.Clone(defaultTmpfsOptions), m.Options...)
		default:
			return nil, fmt.Errorf("%w: mount %q: unknown type %q", ErrInvalidConfig, m.Target, m.Type)
		}
		if m.ReadOnly {
			sm.Options = append(sm.Options, "ro")
		}
		out = append(out, sm)
	}
	sort.SliceStable(out, func(i, j int) bool { return depth(out[i].Destination) < depth(out[j].Destination) })
	return out, nil
}

// mergeMounts puts user mounts after the defaults, dropping a default
// whose destination a user mount takes over.
func mergeMounts(defaults, user []specs.Mount) []specs.Mount {
	taken := map[string]bool{}
	for _, m := range user {
		taken[m.Destination] = true
	}
	out := make([]specs.Mount, 0, len(defaults)+len(user))
	for _, m := range defaults {
		if !taken[m.Destination] {
			out = append(out, m)
		}
	}
	return append(out, user...)
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

func toUint32s(in []int) []uint32 {
	if len(in) == 0 {
		return nil
	}
	out := make([]uint32, len(in))
	for i, v := range in {
		out[i] = uint32(v)
	}
	return out
}
