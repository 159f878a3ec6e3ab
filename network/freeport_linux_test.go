package network

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
)

func TestFreePort(t *testing.T) {
	h := rootTest(t)
	lo, hi, err := localPortRange()
	if err != nil {
		t.Fatal(err)
	}
	loop := netip.MustParseAddr("127.0.0.1")
	for _, proto := range []string{"tcp", "udp"} {
		for _, ip := range []netip.Addr{{}, loop} {
			// Hold one port of the range and mark a few others as
			// published: FreePort must avoid both.
			var taken []uint16
			for i := range 64 {
				taken = append(taken, lo+uint16(i))
			}
			p, err := h.FreePort(proto, ip, taken)
			if err != nil {
				t.Fatalf("FreePort(%s, %v): %v", proto, ip, err)
			}
			if p < lo || p > hi {
				t.Errorf("FreePort(%s, %v) = %d, outside %d-%d", proto, ip, p, lo, hi)
			}
			for _, tp := range taken {
				if p == tp {
					t.Errorf("FreePort(%s, %v) = %d, which is in taken", proto, ip, p)
				}
			}
			addr := net.JoinHostPort(loop.String(), strconv.Itoa(int(p)))
			if proto == "tcp" {
				l, err := net.Listen("tcp4", addr)
				if err != nil {
					t.Errorf("port %d from FreePort is not bindable: %v", p, err)
					continue
				}
				l.Close()
			} else {
				c, err := net.ListenPacket("udp4", addr)
				if err != nil {
					t.Errorf("port %d from FreePort is not bindable: %v", p, err)
					continue
				}
				c.Close()
			}
		}
	}
	if _, err := h.FreePort("sctp", netip.Addr{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("FreePort(sctp) err = %v, want ErrInvalid", err)
	}
}

// TestFreePortSkipsBound holds every port of a small window and checks
// that a search confined to it (all other ports taken) finds nothing.
func TestFreePortSkipsBound(t *testing.T) {
	h := rootTest(t)
	lo, hi, err := localPortRange()
	if err != nil {
		t.Fatal(err)
	}
	// Bind one port and mark the rest of the range as taken.
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := uint16(l.Addr().(*net.TCPAddr).Port)
	if held < lo || held > hi {
		t.Skipf("the kernel gave port %d outside the local range %d-%d", held, lo, hi)
	}
	var taken []uint16
	for p := int(lo); p <= int(hi); p++ {
		if uint16(p) != held {
			taken = append(taken, uint16(p))
		}
	}
	if p, err := h.FreePort("tcp", netip.Addr{}, taken); !errors.Is(err, ErrExhausted) {
		t.Errorf("FreePort = %d, %v with the only untaken port bound; want ErrExhausted", p, err)
	}
	l.Close()
	if p, err := h.FreePort("tcp", netip.Addr{}, taken); err != nil || p != held {
		t.Errorf("FreePort = %d, %v after releasing %d", p, err, held)
	}
}
