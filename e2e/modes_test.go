package e2e

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

const nobody = 65534

// After `up`, no other host user can open what berth keeps: the roots
// are 0700, the database and its -wal/-shm 0600, shim sockets 0600 and
// checked by SO_PEERCRED, volumes under a 0700 parent, secrets in the
// run root. A container running as an unprivileged user still works.
func TestNobodyOpensNothingOfBerths(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	dir := project(t, `
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "echo token > /data/token; exec sleep 1000"]
    ports: ["80"]
    volumes: [data:/data]
    secrets: [pw]
    stop_grace_period: 1s
  unpriv:
    image: berth-e2e/busybox:1
    user: "65534:65534"
    command: ["sleep", "1000"]
    secrets: [pw]
    stop_grace_period: 1s
volumes:
  data: {}
secrets:
  pw:
    file: ./pw.txt
`)
	if err := os.WriteFile(filepath.Join(dir, "pw.txt"), []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u := newUser(t, dir)
	t.Cleanup(func() {
		u.try("down", "-v", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	u.run("up", "-d", "--wait")
	if out := u.run("exec", "unpriv", "sh", "-c", "id -u; cat /run/secrets/pw; cat /etc/hosts >/dev/null && echo hosts-ok"); !strings.Contains(out, "65534") ||
		!strings.Contains(out, "hunter2") || !strings.Contains(out, "hosts-ok") {
		t.Errorf("a container of an unprivileged user under 0700 roots: %q", out)
	}
	runRoot := u.runRoot
	web := u.project + "-web-1" // its runtime directory and socket go by its name

	// The figures for the report: every file berth keeps outside the
	// containers' own trees, with its mode.
	for _, top := range []string{u.root, runRoot} {
		t.Logf("%s  %s", modeOf(t, top), top)
		filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == top {
				return nil
			}
			rel, _ := filepath.Rel(top, p)
			if d.IsDir() && (strings.Count(rel, "/") >= 3 || d.Name() == "rootfs" || d.Name() == "upper" || d.Name() == "work" || d.Name() == "blobs" || d.Name() == "snapshots" || d.Name() == "runc") {
				t.Logf("%s  %s/ (not descended)", modeOf(t, p), p)
				return filepath.SkipDir
			}
			t.Logf("%s  %s", modeOf(t, p), p)
			return nil
		})
	}

	want := map[string]os.FileMode{
		u.root:                            0o700,
		runRoot:                           0o700,
		filepath.Join(u.root, "berth.db"): 0o600,
		filepath.Join(u.root, "volumes"):  0o700,
		filepath.Join(runRoot, "shims", web+".sock"): 0o600,
	}
	// -wal and -shm come and go with the last open of the database (store's
	// TestFileModes checks their modes).
	for p, m := range want {
		if got := modeOf(t, p); got.Perm() != m {
			t.Errorf("%s: mode %v, want %v", p, got.Perm(), m)
		}
	}

	secret := filepath.Join(runRoot, "files", u.project+"-web-1", "secrets", "pw")
	paths := []string{
		u.root, runRoot,
		filepath.Join(u.root, "berth.db"),
		filepath.Join(u.root, "volumes", u.project+"_data", "_data", "token"),
		filepath.Join(u.root, "containers", web, web+"-json.log"),
		filepath.Join(u.root, "containers", web, "config.json"),
		secret,
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("expected %s after up: %v", p, err)
		}
	}
	// nobody, in a process of its own: opens, lists, writes nothing.
	script := `for p; do cat "$p" >/dev/null 2>&1 && echo "read $p"; ls "$p" >/dev/null 2>&1 && echo "listed $p"; [ -w "$p" ] && echo "writable $p"; done; true`
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh"}, paths...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("nobody reached berth's files: %v\n%s", err, out)
	}
	// Its shim socket: not even connectable by path, and with the path
	// made reachable the shim still hangs up on nobody (SO_PEERCRED).
	sock := filepath.Join(runRoot, "shims", web+".sock")
	if err := asNobody(func() error { _, err := net.Dial("unix", sock); return err }); err == nil {
		t.Errorf("nobody connected to %s", sock)
	}
	link := filepath.Join(t.TempDir(), "shim.sock")
	if err := os.Link(sock, link); err != nil {
		t.Fatal(err)
	}
	os.Chmod(link, 0o777)
	os.Chmod(filepath.Dir(link), 0o777)
	os.Chmod(filepath.Dir(filepath.Dir(link)), 0o777)
	err = asNobody(func() error {
		c, err := net.Dial("unix", link)
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		defer c.Close()
		fmt.Fprintln(c, `{"op":"state"}`)
		b := make([]byte, 100)
		n, err := c.Read(b)
		if n > 0 {
			return fmt.Errorf("the shim answered nobody: %q", b[:n])
		}
		return err // EOF: hung up
	})
	if err == nil || strings.Contains(err.Error(), "answered") || strings.HasPrefix(err.Error(), "dial") {
		t.Errorf("the shim's peer check: %v", err)
	}
	if out := u.run("ps"); strings.Count(out, "Up ") != 2 {
		t.Errorf("root still talks to the shims: %s", out)
	}
}

// asNobody runs fn on an OS thread of its own whose user IDs are nobody's
// (and so without capabilities); the thread ends with fn.
func asNobody(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, nobody, nobody, nobody); e != 0 {
			done <- e
			return
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, nobody, nobody, nobody); e != 0 {
			done <- e
			return
		}
		done <- fn()
	}()
	return <-done
}

func modeOf(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Errorf("%v", err)
		return 0
	}
	return fi.Mode()
}
