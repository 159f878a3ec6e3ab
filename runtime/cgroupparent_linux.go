package runtime

import (
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// RemoveCgroupParent removes r's cgroup parent directory (berth_<hash>)
// from every hierarchy (cgroup v1 controllers, the v2 tree) where it is
// empty; where a container's cgroup is still below it, it stays. Callers
// call it once the root has no container left, so that a host whose
// projects are all down holds no cgroup of berth's.
func (r *Runtime) RemoveCgroupParent() error {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", r.cgroupParent))
	dirs = append(dirs, filepath.Join("/sys/fs/cgroup", r.cgroupParent))
	var errs []error
	for _, d := range dirs {
		err := unix.Rmdir(d)
		if err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ENOTDIR) {
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
