package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mountedAnywhere lists the processes in whose mount namespace the root
// filesystem of p is mounted: at its mount point (mountinfo's fifth
// field), or anywhere as the overlay on p's upper directory (the
// container's own "/").
func mountedAnywhere(t *testing.T, p paths) []string {
	t.Helper()
	infos, _ := filepath.Glob("/proc/[0-9]*/mountinfo")
	var pids []string
	for _, f := range infos {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // the process ended meanwhile
		}
		for _, line := range strings.Split(string(data), "\n") {
			if fields := strings.Fields(line); len(fields) > 4 && (fields[4] == p.rootfs || strings.Contains(line, "upperdir="+p.upper+",")) {
				pids = append(pids, filepath.Base(filepath.Dir(f)))
				break
			}
		}
	}
	return pids
}

// A container halted to be removed leaves its root filesystem to the end
// of its shim's mount namespace instead of unmounting it (and waiting for
// the sync under it): once Remove returns, no process anywhere has it
// mounted any more, and the writable layer is gone.
func TestHaltThenRemoveLeavesNoMount(t *testing.T) {
	e := newTestEnv(t)
	c := e.config("echo ready; exec sleep 100000")
	e.start(t, c)
	e.waitLog(t, c.ID, 1)
	p := e.rt.paths(c.ID)
	if pids := mountedAnywhere(t, p); len(pids) == 0 {
		t.Fatalf("the running container's rootfs %s is mounted nowhere: the check sees nothing", p.rootfs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.rt.Halt(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if pids := mountedAnywhere(t, p); len(pids) > 0 {
		t.Fatalf("after Remove, %s is still mounted in the mount namespace of %v", p.rootfs, pids)
	}
	if dirExists(p.dir) {
		t.Fatalf("%s is left", p.dir)
	}
}
