package volume

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	"golang.org/x/sys/unix"
)

// layerBuilder writes one snapshot directory as the image store does.
type layerBuilder struct {
	t   *testing.T
	dir string
}

func newLayer(t *testing.T) layerBuilder {
	return layerBuilder{t: t, dir: t.TempDir()}
}

func (l layerBuilder) p(name string) string { return filepath.Join(l.dir, name) }

func (l layerBuilder) mkdir(name string, mode os.FileMode, uid, gid int) {
	l.t.Helper()
	must(l.t, os.MkdirAll(l.p(name), 0o755))
	must(l.t, os.Chown(l.p(name), uid, gid))
	must(l.t, os.Chmod(l.p(name), mode))
}

func (l layerBuilder) file(name, data string, mode os.FileMode, uid, gid int) {
	l.t.Helper()
	must(l.t, os.WriteFile(l.p(name), []byte(data), 0o600))
	must(l.t, os.Chown(l.p(name), uid, gid))
	must(l.t, os.Chmod(l.p(name), mode))
}

func (l layerBuilder) symlink(name, target string) {
	l.t.Helper()
	must(l.t, os.Symlink(target, l.p(name)))
}

func (l layerBuilder) whiteout(name string) {
	l.t.Helper()
	must(l.t, unix.Mknod(l.p(name), unix.S_IFCHR, 0))
}

func (l layerBuilder) opaque(name string) {
	l.t.Helper()
	must(l.t, unix.Setxattr(l.p(name), "trusted.overlay.opaque", []byte("y"), 0))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testImage builds a two-layer image: the bottom layer holds /data with
// every kind of entry, the upper one whites out /data/gone.txt, makes
// /data/opq opaque and adds files. hostDir is a host directory that image
// symlinks point to.
func testImage(t *testing.T, hostDir string) []string {
	low, up := newLayer(t), newLayer(t)
	low.mkdir("data", 0o755, 0, 0)
	low.file("data/a.txt", "hello", 0o644, 1000, 1000)
	must(t, os.Chtimes(low.p("data/a.txt"), time.Unix(1e9, 0), time.Unix(1e9, 0)))
	must(t, os.Link(low.p("data/a.txt"), low.p("data/hard.txt")))
	low.file("data/suid", "#!/bin/sh\n", 0o751|os.ModeSetuid, 1000, 1000)
	low.mkdir("data/sub", 0o751, 1000, 1000)
	low.file("data/sub/b.txt", "b", 0o600, 1000, 1000)
	low.mkdir("data/tmp", 0o777|os.ModeSticky, 0, 0)
	low.symlink("data/link", "a.txt")
	low.symlink("data/etc", "/etc")
	low.symlink("data/up", "../../")
	low.symlink("data/host", hostDir)
	low.file("data/gone.txt", "deleted above", 0o644, 0, 0)
	low.mkdir("data/opq", 0o755, 0, 0)
	low.file("data/opq/old.txt", "old", 0o644, 0, 0)
	must(t, unix.Mkfifo(low.p("data/fifo"), 0o640))
	must(t, unix.Setxattr(low.p("data/a.txt"), "user.berth", []byte("v"), 0))
	must(t, unix.Setxattr(low.p("data/a.txt"), "trusted.overlay.origin", []byte("x"), 0))
	low.mkdir("etc", 0o755, 0, 0)
	low.file("etc/image-marker", "image", 0o644, 0, 0)
	low.symlink("srv", "/data")
	low.symlink("loop", "loop")

	up.mkdir("data", 0o755, 0, 0)
	up.whiteout("data/gone.txt")
	up.mkdir("data/opq", 0o700, 1000, 1000)
	up.opaque("data/opq")
	up.file("data/opq/new.txt", "new", 0o644, 0, 0)
	up.file("data/new.txt", "upper", 0o644, 0, 0)
	return []string{low.dir, up.dir}
}

// tree lists the entries under dir as "path" sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			out = append(out, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	must(t, err)
	sort.Strings(out)
	return out
}

func TestCopyUpMergesLayers(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	hostDir := t.TempDir()
	layers := testImage(t, hostDir)
	m := New(t.TempDir())
	dst, err := m.Create("p_data")
	must(t, err)
	// A copy-up that crashed left its staging directory.
	stale := filepath.Join(filepath.Dir(dst), ".berth-copyup._data")
	must(t, os.MkdirAll(filepath.Join(stale, "junk"), 0o755))
	must(t, CopyUp(layers, "/data", dst))

	want := []string{"a.txt", "etc", "fifo", "hard.txt", "host", "link", "new.txt", "opq", "opq/new.txt", "sub", "sub/b.txt", "suid", "tmp", "up"}
	if got := tree(t, dst); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("copied tree:\n got %v\nwant %v", got, want)
	}
	type attrs struct {
		mode     os.FileMode
		uid, gid uint32
	}
	for name, w := range map[string]attrs{
		".":         {os.ModeDir | 0o755, 0, 0},
		"a.txt":     {0o644, 1000, 1000},
		"suid":      {os.ModeSetuid | 0o751, 1000, 1000},
		"sub":       {os.ModeDir | 0o751, 1000, 1000},
		"sub/b.txt": {0o600, 1000, 1000},
		"tmp":       {os.ModeDir | os.ModeSticky | 0o777, 0, 0},
		"opq":       {os.ModeDir | 0o700, 1000, 1000},
		"fifo":      {os.ModeNamedPipe | 0o640, 0, 0},
	} {
		fi, err := os.Lstat(filepath.Join(dst, name))
		must(t, err)
		sst := statT(t, filepath.Join(dst, name))
		if got := (attrs{fi.Mode(), sst.Uid, sst.Gid}); got != w {
			t.Errorf("%s: %+v, want %+v", name, got, w)
		}
	}
	for link, target := range map[string]string{"link": "a.txt", "etc": "/etc", "up": "../../", "host": hostDir} {
		if got, err := os.Readlink(filepath.Join(dst, link)); err != nil || got != target {
			t.Errorf("link %s -> %q (%v), want %q", link, got, err, target)
		}
	}
	if ents, err := os.ReadDir(hostDir); err != nil || len(ents) != 0 {
		t.Errorf("host directory behind an image symlink touched: %v %v", ents, err)
	}
	for name, content := range map[string]string{"a.txt": "hello", "new.txt": "upper", "opq/new.txt": "new", "sub/b.txt": "b"} {
		if b, err := os.ReadFile(filepath.Join(dst, name)); err != nil || string(b) != content {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
	a, h := statT(t, filepath.Join(dst, "a.txt")), statT(t, filepath.Join(dst, "hard.txt"))
	if a.Ino != h.Ino {
		t.Error("hard link copied as two files")
	}
	if a.Mtim.Sec != 1e9 {
		t.Errorf("mtime of a.txt: %d", a.Mtim.Sec)
	}
	buf := make([]byte, 16)
	if n, err := unix.Lgetxattr(filepath.Join(dst, "a.txt"), "user.berth", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("user xattr: %q %v", buf[:n], err)
	}
	for _, p := range []string{"a.txt", "opq"} {
		if _, err := unix.Lgetxattr(filepath.Join(dst, p), "trusted.overlay.origin", buf); !errors.Is(err, unix.ENODATA) {
			t.Errorf("overlay xattr copied onto %s: %v", p, err)
		}
		if _, err := unix.Lgetxattr(filepath.Join(dst, p), "trusted.overlay.opaque", buf); !errors.Is(err, unix.ENODATA) {
			t.Errorf("opaque xattr copied onto %s: %v", p, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Dir(dst)); len(ents) != 2 { // _data and opts.json
		t.Errorf("volume directory holds %v", ents)
	}

	// The volume is not empty any more: a second copy-up does nothing.
	must(t, os.Remove(filepath.Join(dst, "new.txt")))
	must(t, CopyUp(layers, "/data", dst))
	if _, err := os.Lstat(filepath.Join(dst, "new.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("copy-up into a non-empty volume: %v", err)
	}
}

func TestCopyUpResolvesInsideImage(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	layers := testImage(t, t.TempDir())
	m := New(t.TempDir())
	tests := []struct {
		path string
		want []string // top-level names copied; nil: nothing
	}{
		{"/srv", []string{"a.txt", "etc", "fifo"}},          // a symlink to /data
		{"/data/up/data", []string{"a.txt", "etc", "fifo"}}, // ../../ stops at the image root
		{"/data/etc", []string{"image-marker"}},             // the image's /etc, not the host's
		{"/data/up/../../etc/", []string{"image-marker"}},   // .. never leaves the image
		{"/nope", nil},             // missing
		{"/data/a.txt", nil},       // a file: mounted, nothing copied
		{"/data/gone.txt", nil},    // whited out
		{"/data/opq/old.txt", nil}, // hidden by the opaque directory
		{"/", []string{"data", "etc", "loop"}},
	}
	for i, tt := range tests {
		dst, err := m.Create("v" + string(rune('a'+i)))
		must(t, err)
		must(t, CopyUp(layers, tt.path, dst))
		got := topNames(t, dst)
		if len(got) > len(tt.want) {
			got = got[:len(tt.want)]
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("CopyUp(%s): %v, want %v first", tt.path, got, tt.want)
		}
	}
	dst, err := m.Create("loop")
	must(t, err)
	if err := CopyUp(layers, "/loop/x", dst); !errors.Is(err, unix.ELOOP) {
		t.Errorf("symlink loop: %v", err)
	}
}

func TestCopyUpRefusesSymlinkedVolume(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	layers := testImage(t, t.TempDir())
	host := t.TempDir()
	dst := filepath.Join(t.TempDir(), "_data")
	must(t, os.Symlink(host, dst))
	if err := CopyUp(layers, "/data", dst); err == nil {
		t.Error("copied through a symlinked volume directory")
	}
	if ents, _ := os.ReadDir(host); len(ents) != 0 {
		t.Errorf("symlink target written: %v", ents)
	}
}

func TestCopyUpIntoMountPoint(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	layers := testImage(t, t.TempDir())
	dst := t.TempDir()
	must(t, unix.Mount("tmpfs", dst, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { must(t, unix.Unmount(dst, unix.MNT_DETACH)) })
	must(t, CopyUp(layers, "/data/sub", dst))
	if got := tree(t, dst); strings.Join(got, " ") != "b.txt" {
		t.Errorf("copied %v", got)
	}
	if st := statT(t, dst); st.Uid != 1000 || st.Mode&0o7777 != 0o751 {
		t.Errorf("mount point %d %o", st.Uid, st.Mode)
	}
}

// TestCopyUpUnprivileged copies a single layer as any user.
func TestCopyUpUnprivileged(t *testing.T) {
	l := newLayer(t)
	uid, gid := os.Getuid(), os.Getgid()
	l.mkdir("app/d", 0o750, uid, gid)
	l.file("app/d/f", "x", 0o640, uid, gid)
	l.symlink("app/l", "d/f")
	dst := filepath.Join(t.TempDir(), "_data")
	must(t, os.Mkdir(dst, 0o755))
	must(t, CopyUp([]string{l.dir}, "/app", dst))
	if got := tree(t, dst); strings.Join(got, " ") != "d d/f l" {
		t.Fatalf("copied %v", got)
	}
	if fi, err := os.Stat(filepath.Join(dst, "d")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("d: %v %v", fi.Mode(), err)
	}
}

func topNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	must(t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func statT(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Lstat(p, &st))
	return st
}
