package runtime

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testutil"
)

// An init layer holds exactly the points the image lacks: made 0755 and
// 0644 whatever the umask, the parents the image has with the image's
// owner and mode (the copy-up), nothing through a symbolic link or below
// a file, nothing the image has already; no mount is left behind.
func TestMakeInitLayer(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	base := t.TempDir()
	bottom, top := filepath.Join(base, "bottom"), filepath.Join(base, "top")
	for _, d := range []string{"etc", "proc", "srv"} {
		must(t, os.MkdirAll(filepath.Join(bottom, d), 0o755))
	}
	must(t, os.Chmod(filepath.Join(bottom, "etc"), 0o750))
	must(t, os.Chown(filepath.Join(bottom, "etc"), 7, 8))
	must(t, os.WriteFile(filepath.Join(bottom, "etc", "hostname"), []byte("image's\n"), 0o600))
	must(t, os.MkdirAll(top, 0o755))
	must(t, os.Symlink("/elsewhere", filepath.Join(top, "var")))
	must(t, os.WriteFile(filepath.Join(top, "data"), nil, 0o644))
	points := []MountPoint{
		{Path: "/etc/hosts", File: true},
		{Path: "/etc/hostname", File: true}, // the image has it
		{Path: "/proc"},                     // the image has it
		{Path: "/sys"},
		{Path: "/srv/app/www"},
		{Path: "/var/run/app"}, // through a link: the init's
		{Path: "/data/sub"},    // below a file: the init's
		{Path: "/sbin/docker-init", File: true},
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	scratch := filepath.Join(base, "scratch")
	must(t, os.Mkdir(scratch, 0o700))
	layer, err := MakeInitLayer([]string{bottom, top}, scratch, points)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		mode     fs.FileMode
		uid, gid uint32
		size     int64
	}
	got := map[string]entry{}
	err = filepath.WalkDir(layer, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == layer {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		got[strings.TrimPrefix(p, layer)] = entry{fi.Mode(), st.Uid, st.Gid, fi.Size()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := func(m fs.FileMode) entry { return entry{mode: fs.ModeDir | m, size: 4096} }
	want := map[string]entry{
		"/etc":              {mode: fs.ModeDir | 0o750, uid: 7, gid: 8, size: 4096},
		"/etc/hosts":        {mode: 0o644},
		"/sys":              dir(0o755),
		"/srv":              dir(0o755),
		"/srv/app":          dir(0o755),
		"/srv/app/www":      dir(0o755),
		"/sbin":             dir(0o755),
		"/sbin/docker-init": {mode: 0o644},
	}
	for p, w := range want {
		if g, ok := got[p]; !ok || g != w {
			t.Errorf("%s: got %+v (present %v), want %+v", p, g, ok, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected %s in the init layer", p)
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	if strings.Contains(string(mi), scratch) {
		t.Errorf("a mount of the init layer is left:\n%s", mi)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A busy mount of a thread's own namespace is unmounted once what holds
// it lets go (a process forked meanwhile, until it execs), and detached
// when it does not: either way it is gone from the namespace.
func TestUnmountPrivateOfABusyMount(t *testing.T) {
	testutil.RequiresRoot(t)
	for _, held := range []time.Duration{20 * time.Millisecond, time.Hour} {
		dir := t.TempDir()
		done := make(chan error, 1)
		go func() {
			goruntime.LockOSThread() // never unlocked: the thread ends with its namespace
			done <- func() error {
				if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
					return err
				}
				if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
					return err
				}
				if err := unix.Mount("tmpfs", dir, "tmpfs", 0, ""); err != nil {
					return err
				}
				f, err := os.Create(filepath.Join(dir, "open"))
				if err != nil {
					return err
				}
				defer f.Close()
				go func() { time.Sleep(held); f.Close() }()
				if err := unmountPrivate(dir); err != nil {
					return fmt.Errorf("held %v: %w", held, err)
				}
				info, err := os.ReadFile("/proc/thread-self/mountinfo")
				if err != nil {
					return err
				}
				if strings.Contains(string(info), " "+dir+" ") {
					return fmt.Errorf("held %v: %s still mounted", held, dir)
				}
				return nil
			}()
		}()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
