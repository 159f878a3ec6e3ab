package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

func TestRootMountShared(t *testing.T) {
	for _, tc := range []struct {
		name, table   string
		shared, found bool
	}{
		{"host, shared", "25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n" +
			"26 25 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw\n", true, true},
		{"private", "25 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n" +
			"26 25 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw\n", false, true},
		{"slave", "25 1 254:0 / / rw,relatime master:1 - ext4 /dev/vda rw\n", false, true},
		{"shared and slave", "25 1 254:0 / / rw,relatime shared:3 master:1 - ext4 /dev/vda rw\n", true, true},
		{"the last root mount counts", "25 1 254:0 / / rw shared:1 - ext4 /dev/vda rw\n" +
			"90 25 0:40 / / rw - tmpfs tmpfs rw\n", false, true},
		{"covered by a shared one", "25 1 254:0 / / rw - ext4 /dev/vda rw\n" +
			"90 25 0:40 / / rw shared:7 - tmpfs tmpfs rw\n", true, true},
		{"a source named shared:", "25 1 254:0 / / rw - ext4 shared:1 rw\n", false, true},
		{"no root mount", "26 25 0:5 / /dev rw,nosuid - devtmpfs udev rw\n", false, false},
		{"empty", "", false, false},
	} {
		if shared, found := rootMountShared(tc.table); shared != tc.shared || found != tc.found {
			t.Errorf("%s: shared, found = %v, %v; want %v, %v", tc.name, shared, found, tc.shared, tc.found)
		}
	}
}

// TestInitMountsNotInASharedNamespace calls prepareInitMounts on a
// thread whose namespace (its own, private to this test) has a shared
// root mount and the root filesystem mounted: the shim makes neither the
// /dev tree nor a bind, the configuration is left to libcontainer.
func TestInitMountsNotInASharedNamespace(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	dir := t.TempDir()
	p := paths{dir: dir, rootfs: filepath.Join(dir, "rootfs")}
	must(t, os.Mkdir(p.rootfs, 0o755))
	host := filepath.Join(dir, "hosts")
	must(t, os.WriteFile(host, nil, 0o644))
	dev := &configs.Mount{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID, Data: "mode=755"}
	bind := &configs.Mount{Source: host, Destination: "/hosts", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC}
	cfg := &configs.Config{Rootfs: p.rootfs, Mounts: []*configs.Mount{dev, bind}, Namespaces: configs.Namespaces{{Type: configs.NEWNS}}}
	must(t, inOwnMountNS(func() error {
		// A peer group of this namespace's own: nothing reaches the host.
		if err := unix.Mount("", "/", "", unix.MS_SHARED, ""); err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", p.rootfs, "tmpfs", 0, ""); err != nil {
			return err
		}
		prepareInitMounts(cfg, p)()
		return nil
	}))
	if len(cfg.Mounts) != 2 || cfg.Mounts[0] != dev || cfg.Mounts[1] != bind {
		t.Errorf("the shim took mounts off the init in a shared namespace: left %v", cfg.Mounts)
	}
}

// TestRootPropagationAsMountinfo sets up the calling thread's namespace
// (its own, private to this test) in the ways the shim can meet it and
// requires rootNotShared, which asks the kernel about the root mount, to
// answer as the thread's mount table read whole does (rootMountShared),
// and as expected: a private or a shared root, and a mount stacked on
// "/" that differs from the one beneath it either way (the one on top
// counts, as the table's last "/" line).
func TestRootPropagationAsMountinfo(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	if _, ok := rootPropagation(); !ok {
		// Skipped only where the kernel lacks what it asks (before Linux
		// 6.8); a request it refuses otherwise (a wrong size, say) fails.
		var stx unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, "/..", unix.AT_STATX_DONT_SYNC, unix.STATX_MNT_ID_UNIQUE, &stx); err != nil {
			t.Fatalf("statx of /..: %v", err)
		}
		if stx.Mask&unix.STATX_MNT_ID_UNIQUE == 0 {
			t.Skip("the kernel has no unique mount IDs (before Linux 6.8): mountinfo is read")
		}
		// With no request: ENOSYS where there is no statmount, EFAULT
		// where there is.
		if _, _, errno := unix.Syscall6(unix.SYS_STATMOUNT, 0, 0, 0, 0, 0, 0); errno == unix.ENOSYS {
			t.Skip("the kernel has no statmount(2) (before Linux 6.8): mountinfo is read")
		}
		t.Fatal("rootPropagation cannot say, on a kernel with statmount(2) and unique mount IDs")
	}
	stackTmpfs := func() error { return unix.Mount("tmpfs", "/", "tmpfs", 0, "size=4k") }
	for _, tc := range []struct {
		name      string
		setup     []func() error
		notShared bool
	}{
		{"private", nil, true},
		{"shared", []func() error{func() error { return unix.Mount("", "/", "", unix.MS_SHARED, "") }}, false},
		{"private on a shared one", []func() error{stackTmpfs,
			// "/" itself names the thread's root, the mount beneath.
			func() error { return unix.Mount("", "/", "", unix.MS_SHARED, "") }}, true},
		{"shared on a private one", []func() error{stackTmpfs,
			func() error { return unix.Mount("", "/..", "", unix.MS_SHARED, "") }}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type answer struct{ fast, fastOK, table, tableFound bool }
			var a answer
			must(t, inOwnMountNS(func() error {
				for _, f := range tc.setup {
					if err := f(); err != nil {
						return err
					}
				}
				b, err := os.ReadFile("/proc/thread-self/mountinfo")
				if err != nil {
					return err
				}
				a.table, a.tableFound = rootMountShared(string(b))
				shared, ok := rootPropagation()
				a.fast, a.fastOK = !shared, ok
				if rootNotShared() != a.fast {
					return fmt.Errorf("rootNotShared differs from rootPropagation")
				}
				return nil
			}))
			if !a.fastOK || !a.tableFound {
				t.Fatalf("no answer: from the kernel %v, from mountinfo %v", a.fastOK, a.tableFound)
			}
			if a.fast != !a.table {
				t.Errorf("not shared: %v from the kernel, %v from mountinfo", a.fast, !a.table)
			}
			if a.fast != tc.notShared {
				t.Errorf("not shared: %v, want %v", a.fast, tc.notShared)
			}
		})
	}
}

// inOwnMountNS runs f on a locked thread in a mount namespace of its own,
// its mounts made private, and returns f's error; the thread ends with
// the namespace (it is never unlocked).
func inOwnMountNS(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return err
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return err
			}
			return f()
		}()
	}()
	return <-errc
}
