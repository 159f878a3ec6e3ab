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
func listenPrivate(path, root string) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	pl, err := privateListener(ln, root)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return pl, nil
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
