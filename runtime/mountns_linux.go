package runtime

import (
	"os"
	"strings"
)

// rootNotShared reports whether the calling thread's root mount
// propagates nothing: the shim's mounts made in the thread's namespace
// then reach no other namespace, whatever the namespace is. A mount at
// the root filesystem's path (rootfsMounted) is no proof of a private
// namespace: on the host, a restart's shim re-executed back into its
// namespace, one could be there too.
func rootNotShared() bool {
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return false
	}
	shared, found := rootMountShared(string(b))
	return found && !shared
}

// rootMountShared reports, of a mountinfo table, whether the mount on
// "/" (the last line of that mount point: the one on top) is in a peer
// group ("shared:N" among its optional fields), and whether there is one.
func rootMountShared(mountinfo string) (shared, found bool) {
	for line := range strings.Lines(mountinfo) {
		// ID, parent, device, root, mount point, options, optional fields..., "-", type, source, options
		f := strings.Fields(line)
		if len(f) < 7 || f[4] != "/" {
			continue
		}
		found, shared = true, false
		for _, o := range f[6:] {
			if o == "-" {
				break
			}
			if strings.HasPrefix(o, "shared:") {
				shared = true
			}
		}
	}
	return shared, found
}
