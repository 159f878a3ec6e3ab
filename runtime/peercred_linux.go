package runtime

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenPrivate listens on the unix socket path, mode 0600, and accepts
// only peers that are root or the owner of root (the state root), by
// their SO_PEERCRED credentials: a socket that escaped its 0700
// directory still lets nobody else stop, attach to or read a container.
// On failure it leaves no socket file behind (but one that was there).
func listenPrivate(path, root string) (net.Listener, error) {
	ln, err := listenUnix(path)
	if err != nil {
		return nil, err
	}
	pl, err := privateListener(ln, root)
	if err != nil {
		ln.Close()
		_ = os.Remove(path)
		return nil, err
	}
	return pl, nil
}

// listenUnix listens on a new unix socket at path, mode 0600 before it
// listens, as net.Listen does but for the backlog: SOMAXCONN, which the
// kernel caps at its net.core.somaxconn, where net.Listen reads that
// sysctl from /proc first (a fifth of the listen's CPU in a fresh shim,
// issue 15). Closing the listener leaves the socket file (whoever made
// it removes it); a failure after the bind removes it.
func listenUnix(path string) (net.Listener, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("listen unix %s: socket: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close() // FileListener keeps a duplicate
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return nil, fmt.Errorf("listen unix %s: bind: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("listen unix %s: %w", path, err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("listen unix %s: listen: %w", path, err)
	}
	ln, err := net.FileListener(f)
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("listen unix %s: %w", path, err)
	}
	return ln, nil
}

// privateListener lets only root and the owner of root through ln.
func privateListener(ln net.Listener, root string) (net.Listener, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	return &peerListener{Listener: ln, owner: st.Sys().(*syscall.Stat_t).Uid}, nil
}

// peerListener is a unix listener that drops connections of other users.
type peerListener struct {
	net.Listener
	owner uint32
}

// Accept returns the next connection of root or the owner, closing the others.
func (l *peerListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(conn)
		if err == nil && (uid == 0 || uid == l.owner) {
			return conn, nil
		}
		conn.Close()
	}
}

// peerUID is the user ID of the process at the other end of a unix socket.
func peerUID(conn net.Conn) (uint32, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return 0, fmt.Errorf("not a unix socket: %T", conn)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) { cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, credErr
	}
	return cred.Uid, nil
}
