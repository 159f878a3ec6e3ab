package runtime

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// The shim's control socket: mode 0600, a unix listener the handoff can
// pass on (unixListener), close-on-exec (no process the shim starts
// inherits it), answering a client; a second listen on the path fails;
// closing it leaves the file to whoever made it (the shim's teardown);
// a listen that fails after its bind removes it.
func TestListenPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shim.sock")
	ln, err := listenPrivate(path, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket file mode %v, want a socket, 0600", st.Mode())
	}
	ul, err := unixListener(ln)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ul.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	if err := rc.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFD, 0) }); err != nil || ferr != nil {
		t.Fatal(err, ferr)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Fatal("the listening socket is inherited across exec")
	}
	go func() {
		c, err := net.Dial("unix", path)
		if err == nil {
			_, _ = c.Write([]byte("x"))
			c.Close()
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if _, err := c.Read(buf); err != nil || buf[0] != 'x' {
		t.Fatalf("read %q, %v", buf, err)
	}
	c.Close()
	if _, err := listenPrivate(path, dir); !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("a second listen on the path: %v, want EADDRINUSE", err)
	}
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("closing the listener removed its file: %v", err)
	}
	// A failure once the socket is bound (the state root's owner cannot
	// be read) leaves no socket file behind.
	other := filepath.Join(dir, "other.sock")
	if _, err := listenPrivate(other, filepath.Join(dir, "missing")); err == nil {
		t.Fatal("listening with a missing state root succeeded")
	}
	if _, err := os.Lstat(other); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed listen left its socket file: %v", err)
	}
}
