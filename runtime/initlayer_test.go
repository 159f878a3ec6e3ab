package runtime

import (
	"os"
	"slices"
	"testing"
)

// The mount points an init layer holds are those the init would make in
// the root filesystem: the kernel filesystems' directories, each bind's
// target as a file or a directory after its source, a tmpfs only with a
// mode of its own, and nothing inside another mount (/dev's tmpfs, a
// volume).
func TestMountPoints(t *testing.T) {
	kinds := map[string]bool{"/host/dir": true, "/host/file": false, "/host/init": false}
	srcIsDir := func(src string) (bool, error) {
		dir, ok := kinds[src]
		if !ok {
			return false, os.ErrNotExist
		}
		return dir, nil
	}
	c := Config{Init: "/host/init", Mounts: []Mount{
		{Type: "bind", Source: "/host/file", Target: "/etc/hosts"},
		{Type: "bind", Source: "/host/dir", Target: "/data"},
		{Type: "bind", Source: "/host/file", Target: "/data/inside"}, // in the /data mount
		{Type: "bind", Source: "/host/dir", Target: "/dev/custom"},   // in /dev's tmpfs
		{Type: "bind", Source: "/host/missing", Target: "/gone"},     // the init reports it
		{Type: "tmpfs", Target: "/run"},                              // its mode depends on the point
		{Type: "tmpfs", Target: "/scratch", Options: []string{"mode=1777"}},
		{Type: "bind", Source: "/host/dir", Target: "/srv/./app/"},
	}}
	got := MountPoints(c, srcIsDir)
	want := []MountPoint{
		{Path: "/proc"}, {Path: "/dev"}, {Path: "/sys"},
		{Path: "/data"}, {Path: "/scratch"},
		{Path: "/etc/hosts", File: true}, {Path: "/srv/app"},
		{Path: "/sbin/docker-init", File: true},
	}
	sortPoints := func(ps []MountPoint) {
		slices.SortFunc(ps, func(a, b MountPoint) int {
			if a.Path < b.Path {
				return -1
			}
			if a.Path > b.Path {
				return 1
			}
			return 0
		})
	}
	sortPoints(got)
	sortPoints(want)
	if !slices.Equal(got, want) {
		t.Errorf("MountPoints =\n%v\nwant\n%v", got, want)
	}
	if k1, k2 := MountPointsKey(want), MountPointsKey(slices.Clone(want)); k1 != k2 || k1 == MountPointsKey(want[1:]) {
		t.Errorf("keys: %q %q", k1, k2)
	}
	flip := slices.Clone(want)
	flip[0].File = true
	if MountPointsKey(flip) == MountPointsKey(want) {
		t.Error("a file and a directory at one path have the same key")
	}
	// A bad mount type leaves every point to the init (BuildSpec reports it).
	if got := MountPoints(Config{Mounts: []Mount{{Type: "nfs", Target: "/x"}}}, srcIsDir); got != nil {
		t.Errorf("with a bad mount: %v", got)
	}
}
