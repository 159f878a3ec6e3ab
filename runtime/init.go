package runtime

import "slices"

// InitPath is where a container's init (Config.Init) is mounted, Docker's
// path for docker-init.
const InitPath = "/sbin/docker-init"

// withInit is c's process arguments and mounts with its init, when it has
// one, as PID 1 in front of the command, mounted read-only.
func withInit(c Config) (args []string, mounts []Mount) {
	if c.Init == "" {
		return slices.Clone(c.Args), c.Mounts
	}
	args = append([]string{InitPath, "--"}, c.Args...)
	mounts = append(slices.Clone(c.Mounts), Mount{Type: "bind", Source: c.Init, Target: InitPath, ReadOnly: true})
	return args, mounts
}
