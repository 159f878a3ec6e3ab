package network

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// A port bound on 127.0.0.1 is held for every address that overlaps it,
// and the holder is this process; an address the host lacks is no one's.
func TestPortHolder(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	me := fmt.Sprintf("process %d (", os.Getpid())
	for _, ip := range []netip.Addr{{}, netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("127.0.0.1")} {
		if got := PortHolder("tcp", ip, port); !strings.HasPrefix(got, me) {
			t.Errorf("tcp %v:%d held by %q, want %s...)", ip, port, got, me)
		}
	}
	if got := PortHolder("udp", netip.Addr{}, port); got != "" {
		t.Errorf("udp %d: held by %q", port, got)
	}
	if got := PortHolder("tcp", netip.MustParseAddr("192.0.2.77"), port); got != "" {
		t.Errorf("an address the host lacks: held by %q", got)
	}
}
