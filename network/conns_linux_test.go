package network

import (
	"errors"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// Sockets lists the listeners and the connections of the namespace a
// process is in, IPv4 and IPv6 alike, with their local ports and states:
// here this process's own, on loopback.
func TestSocketsOfAProcess(t *testing.T) {
	testutil.RequiresRoot(t)
	for _, network := range []string{"tcp4", "tcp6"} {
		addr := map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network]
		ln, err := net.Listen(network, addr)
		if network == "tcp6" && errors.Is(err, syscall.EADDRNOTAVAIL) {
			t.Log("no IPv6 loopback here")
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", network, err)
		}
		defer ln.Close()
		client, err := net.Dial(network, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		served, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer served.Close()
		port := uint64(ln.Addr().(*net.TCPAddr).Port)
		sockets, err := Sockets(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []Socket{
			{LocalPort: port, State: tcpListen},
			{LocalPort: port, State: tcpEstablished},
			{LocalPort: uint64(client.LocalAddr().(*net.TCPAddr).Port), State: tcpEstablished},
		} {
			if !slices.Contains(sockets, want) {
				t.Errorf("%s: %+v missing from %d sockets", network, want, len(sockets))
			}
		}
	}
	if _, err := Sockets(1 << 30); err == nil {
		t.Error("the sockets of a process that does not exist: no error")
	}
}
