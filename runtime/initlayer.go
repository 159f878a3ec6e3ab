package runtime

import (
	"fmt"
	"path"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MountPoint is a mount target a container's init makes in its root
// filesystem when the image lacks it: an empty directory, or an empty
// file for a file bind-mounted there. Made once in a shared init layer
// (MakeInitLayer, as Docker's <id>-init layer), it costs no container's
// init an inode in its own layer, nor the copy-up of its parents.
type MountPoint struct {
	Path string // absolute and clean
	File bool   // an empty file (a file's bind mount); else a directory
}

// MountPoints are the mount points of c that lie in its root filesystem
// itself (not inside another of its mounts), in mount order, each as the
// init would make it: a directory for the kernel filesystems, a file or a
// directory after a bind mount's source (srcIsDir; a source it cannot
// tell about is left to the init, which reports it). A tmpfs without a
// mode option is left out too: the init gives the tmpfs the mode of a
// mount point that exists, and the default (1777) to one it makes.
func MountPoints(c Config, srcIsDir func(string) (bool, error)) []MountPoint {
	_, ms := withInit(c)
	user, err := specMounts(ms)
	if err != nil {
		return nil // Validate's and BuildSpec's error to report
	}
	all := mergeMounts(defaultMounts(), user)
	var out []MountPoint
	for _, m := range all {
		if m.Destination == "/" || !path.IsAbs(m.Destination) || underAnother(m.Destination, all) {
			continue
		}
		p := MountPoint{Path: m.Destination}
		switch m.Type {
		case "bind":
			dir, err := srcIsDir(m.Source)
			if err != nil {
				continue
			}
			p.File = !dir
		case "tmpfs":
			if !slices.ContainsFunc(m.Options, func(o string) bool { return strings.HasPrefix(o, "mode=") }) {
				continue
			}
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// underAnother reports whether dest lies inside the destination of one of
// the mounts ms (its mount point is then made in that filesystem, not in
// the root filesystem).
func underAnother(dest string, ms []specs.Mount) bool {
	for _, m := range ms {
		if m.Destination != dest && (m.Destination == "/" || strings.HasPrefix(dest, m.Destination+"/")) {
			return true
		}
	}
	return false
}

// MountPointsKey is the text form of points, the same for the same
// points: what an init layer made for them is named after.
func MountPointsKey(points []MountPoint) string {
	var b strings.Builder
	for _, p := range points {
		kind := "dir"
		if p.File {
			kind = "file"
		}
		fmt.Fprintf(&b, "%s %s\n", kind, p.Path)
	}
	return b.String()
}
