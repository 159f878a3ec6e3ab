package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// cpOut runs berth with stdin and returns its stdout alone (a tar stream
// must not mix with progress lines).
func (u *user) cpOut(stdin []byte, args ...string) ([]byte, error) {
	u.t.Helper()
	cmd := exec.Command(u.bin, append([]string{"-p", u.project}, args...)...)
	cmd.Dir, cmd.Env = u.dir, u.env
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, errors.New(err.Error() + ": " + errb.String())
	}
	return out.Bytes(), nil
}

// entry is one tar entry as the tests look at it.
type entry struct {
	typ      byte
	uid, gid int
	body     string
	link     string
}

// fetch copies path out of the service's container as a tar stream and
// reads it, checking it with the host's tar too.
func (u *user) fetch(args ...string) map[string]entry {
	u.t.Helper()
	out, err := u.cpOut(nil, append([]string{"cp"}, args...)...)
	if err != nil {
		u.t.Fatalf("cp %v: %v", args, err)
	}
	tarT := exec.Command("tar", "-t")
	tarT.Stdin = bytes.NewReader(out)
	if b, err := tarT.CombinedOutput(); err != nil {
		u.t.Fatalf("tar -t of cp %v: %v\n%s", args, err, b)
	}
	got := map[string]entry{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			u.t.Fatalf("reading tar of cp %v: %v", args, err)
		}
		body, _ := io.ReadAll(tr)
		got[h.Name] = entry{typ: h.Typeflag, uid: h.Uid, gid: h.Gid, body: string(body), link: h.Linkname}
	}
}

func writeFile(t *testing.T, p, body string, uid, gid int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func fileSum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// cp both ways with docker cp's path rules, tar streams, owners with and
// without -a, a stopped container, a named volume, and container-side
// symlinks that point at the host's /etc/shadow resolving inside the
// container's root.
func TestCp(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "mkdir -p /data/dir && echo c > /data/dir/c && chown 1234:5678 /data/dir/c && ln -s /etc/shadow /link && touch /ready && trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    volumes: ["vol:/vol"]
volumes:
  vol:
`, "-v", "-t", "0")
	u.run("up", "-d")
	for i := 0; ; i++ {
		if _, err := u.cpOut(nil, "cp", "web:/ready", "-"); err == nil {
			break
		}
		if i == 100 {
			t.Fatal("the container's command never got ready")
		}
		sleep()
	}
	hostShadow := fileSum(t, "/etc/shadow")
	host := t.TempDir()
	in := func(p string) string { return filepath.Join(host, p) }

	// The container's /etc/shadow gets a marker; /link points at it.
	writeFile(t, in("marker"), "container shadow\n", 0, 0)
	u.run("cp", in("marker"), "web:/etc/shadow")
	if e := u.fetch("-L", "web:/link", "-")["link"]; e.body != "container shadow\n" {
		t.Fatalf("cp -L web:/link: %+v, want the container's /etc/shadow", e)
	}
	if e := u.fetch("web:/link", "-")["link"]; e.typ != tar.TypeSymlink || e.link != "/etc/shadow" {
		t.Fatalf("cp web:/link without -L: %+v, want the symlink itself", e)
	}
	u.run("cp", "-L", "web:/link", in("shadow-copy"))
	u.run("cp", "web:/../../../../etc/shadow", in("dotdot-copy"))
	for _, p := range []string{"shadow-copy", "dotdot-copy"} {
		if b, _ := os.ReadFile(in(p)); string(b) != "container shadow\n" {
			t.Fatalf("%s: %q, want the container's marker", p, b)
		}
	}
	// Writing to the link writes the container's file, never the host's.
	writeFile(t, in("new-shadow"), "written through the link\n", 0, 0)
	u.run("cp", in("new-shadow"), "web:/link")
	if e := u.fetch("web:/etc/shadow", "-")["shadow"]; e.body != "written through the link\n" {
		t.Fatalf("after cp to web:/link, the container's /etc/shadow: %+v", e)
	}
	// A tar stream with its own link to /etc/shadow, and a file below a link to /etc.
	var stream bytes.Buffer
	tw := tar.NewWriter(&stream)
	tw.WriteHeader(&tar.Header{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow", Mode: 0o777})
	tw.WriteHeader(&tar.Header{Name: "stream/x", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2, Uid: 77, Gid: 88})
	tw.Write([]byte("x\n"))
	tw.Close()
	if _, err := u.cpOut(stream.Bytes(), "cp", "-", "web:/tmp"); err != nil {
		t.Fatal(err)
	}
	if e := u.fetch("-L", "web:/tmp/evil", "-")["evil"]; e.body != "written through the link\n" {
		t.Fatalf("cp -L web:/tmp/evil: %+v", e)
	}
	if e := u.fetch("web:/tmp/stream/x", "-")["x"]; e.body != "x\n" || e.uid != 0 || e.gid != 0 {
		t.Fatalf("a file from a tar stream without -a: %+v, want x owned by 0:0", e)
	}
	if fileSum(t, "/etc/shadow") != hostShadow {
		t.Fatal("the host's /etc/shadow changed")
	}

	// Files: into a directory, to a new name; owners reset without -a, kept with it.
	writeFile(t, in("f.txt"), "hello\n", 4321, 8765)
	u.run("cp", in("f.txt"), "web:/tmp/")
	u.run("cp", "-a", in("f.txt"), "web:/tmp/owned.txt")
	got := u.fetch("web:/tmp", "-")
	if e := got["tmp/f.txt"]; e.body != "hello\n" || e.uid != 0 || e.gid != 0 {
		t.Errorf("cp f.txt web:/tmp/: %+v, want hello owned by 0:0", e)
	}
	if e := got["tmp/owned.txt"]; e.body != "hello\n" || e.uid != 4321 || e.gid != 8765 {
		t.Errorf("cp -a f.txt web:/tmp/owned.txt: %+v, want hello owned by 4321:8765", e)
	}
	if _, err := u.try("cp", in("f.txt"), "web:/tmp/nodir/"); err == nil {
		t.Error("a file to a missing directory path: no error")
	}

	// Directories: into a directory, to a new name, and a directory's content.
	writeFile(t, in("src/a"), "A", 0, 0)
	writeFile(t, in("src/sub/b"), "B", 0, 0)
	u.run("cp", in("src"), "web:/tmp")
	u.run("cp", in("src"), "web:/tmp/renamed")
	u.run("cp", in("src")+"/.", "web:/vol")
	got = u.fetch("web:/tmp/.", "-")
	for _, name := range []string{"src/a", "src/sub/b", "renamed/a", "renamed/sub/b"} {
		if _, ok := got[name]; !ok {
			t.Errorf("no %s in the container's /tmp: %v", name, keys(got))
		}
	}
	// The content went into the named volume, not the container's layer.
	vol := filepath.Join(u.root, "volumes", u.project+"_vol", "_data")
	if b, err := os.ReadFile(filepath.Join(vol, "sub/b")); err != nil || string(b) != "B" {
		t.Errorf("src/. into web:/vol: the volume has %q, %v", b, err)
	}

	// Out of the container: a directory to a new name, owners.
	u.run("cp", "web:/data/dir", in("out"))
	u.run("cp", "-a", "web:/data/dir/c", in("kept"))
	u.run("cp", "web:/data/dir/.", in("src"))
	for p, want := range map[string][3]int{"out/c": {os.Getuid(), os.Getgid()}, "kept": {1234, 5678}, "src/c": {os.Getuid(), os.Getgid()}} {
		uid, gid, body := owner(t, in(p))
		if uid != want[0] || gid != want[1] || body != "c\n" {
			t.Errorf("%s: %d:%d %q, want %d:%d", p, uid, gid, body, want[0], want[1])
		}
	}
	if names := u.fetch("web:/etc", "-"); names["etc/passwd"].typ != tar.TypeReg {
		t.Errorf("cp web:/etc -: %v", keys(names))
	}
	// The whole running container: its files, and empty /proc and /sys.
	whole := u.fetch("web:/", "-")
	if whole["etc/passwd"].typ != tar.TypeReg || whole["vol/a"].body != "A" {
		t.Errorf("cp web:/ -: no etc/passwd or vol/a among %d entries", len(whole))
	}
	for name := range whole {
		if strings.HasPrefix(name, "proc/") && name != "proc/" || strings.HasPrefix(name, "sys/") && name != "sys/" {
			t.Errorf("cp web:/ - archived the kernel's %s", name)
			break
		}
	}

	// A stopped container: copied from, copied into (its layer and its volume), and the copy stays.
	u.run("stop", "-t", "1")
	if e := u.fetch("web:/tmp/f.txt", "-")["f.txt"]; e.body != "hello\n" {
		t.Fatalf("cp from the stopped container: %+v", e)
	}
	writeFile(t, in("later"), "later\n", 0, 0)
	u.run("cp", in("later"), "web:/tmp/later")
	u.run("cp", in("later"), "web:/vol/later")
	if b, err := os.ReadFile(filepath.Join(vol, "later")); err != nil || string(b) != "later\n" {
		t.Errorf("cp into the stopped container's volume: %q, %v", b, err)
	}
	u.run("start")
	if e := u.fetch("web:/tmp/later", "-")["later"]; e.body != "later\n" {
		t.Fatalf("a copy into the stopped container, after start: %+v", e)
	}

	// Errors: exit 1 with a message.
	for _, args := range [][]string{
		{"cp", "web:/nope", in("x")},
		{"cp", "--index", "2", "web:/etc", in("x")},
		{"cp", "nosuch:/etc", in("x")},
		{"cp", "web:/a", "web:/b"},
		{"cp", in("src"), "web:/tmp/f.txt"},
	} {
		out, err := u.try(args...)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "Error") {
			t.Errorf("berth %v: %v, want exit 1 and an error:\n%s", args, err, out)
		}
	}
}

func owner(t *testing.T, p string) (uid, gid int, body string) {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	sys := st.Sys().(*syscall.Stat_t)
	return int(sys.Uid), int(sys.Gid), string(b)
}

func keys(m map[string]entry) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
