package network

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// rootTest gates t on root, registers the leak check, and returns a Host
// on a random table that is deleted at cleanup.
func rootTest(t testing.TB) *Host {
	t.Helper()
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	h := New(WithTable(fmt.Sprintf("berth_t%08x", rand.Uint32())))
	t.Cleanup(func() {
		if err := h.DeleteTable(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return h
}

// testSubnet returns a random 10.2xx.x.0/24 that no host route or
// address overlaps.
func testSubnet(t testing.TB) netip.Prefix {
	t.Helper()
	routes, err := HostRoutes()
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(200 + rand.IntN(56)), byte(rand.IntN(256)), 0}), 24)
		if got, err := PickSubnet([]netip.Prefix{p}, nil, routes); err == nil {
			return got
		}
	}
	t.Fatal("no free test subnet in 10.200.0.0-10.255.255.0")
	return netip.Prefix{}
}

// testBridge makes a bridge with a random name and subnet, removed at cleanup.
func testBridge(t testing.TB, h *Host) Bridge {
	t.Helper()
	sub := testSubnet(t)
	return ensureTestBridge(t, h, Bridge{Name: BridgeName(fmt.Sprintf("test-%x", rand.Uint64())), Subnet: sub, Gateway: sub.Addr().Next()})
}

// ensureTestBridge makes bridge b and removes it at cleanup.
func ensureTestBridge(t testing.TB, h *Host, b Bridge) Bridge {
	t.Helper()
	t.Cleanup(func() {
		if err := h.RemoveBridge(b); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := h.EnsureBridge(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// testNetNS makes a netns mounted under a temp dir, removed at cleanup.
func testNetNS(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "netns", "ns")
	t.Cleanup(func() {
		if err := RemoveNetNS(p); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := CreateNetNS(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// testLink attaches a new netns to b at host address number n of the
// subnet, with a default route, detached at cleanup.
func testLink(t testing.TB, h *Host, b Bridge, n int) (string, Link) {
	t.Helper()
	ns := testNetNS(t)
	a := b.Subnet.Addr()
	for range n {
		a = a.Next()
	}
	l := Link{Bridge: b, HostVeth: VethName(ns, b.Name), IfName: "eth0", Addr: netip.PrefixFrom(a, b.Subnet.Bits()), DefaultRoute: true}
	t.Cleanup(func() {
		if err := h.Detach(l); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := h.Attach(ns, l); err != nil {
		t.Fatal(err)
	}
	return ns, l
}

// inNetNS runs fn on a thread switched into the netns at path. Sockets
// made by fn stay in that namespace and can be used from any goroutine
// afterwards. If switching back fails the thread is left locked, so the
// runtime discards it.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := netns.GetFromPath(path)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, err)
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// serveTCP listens on addr inside the netns at ns and answers every
// connection with reply, until cleanup.
func serveTCP(t testing.TB, ns, addr, reply string) {
	t.Helper()
	var ln net.Listener
	if err := inNetNS(ns, func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(reply))
			c.Close()
		}
	}()
}

// serveUDP echoes every datagram to addr inside the netns at ns, prefixed
// with prefix, until cleanup.
func serveUDP(t testing.TB, ns, addr, prefix string) {
	t.Helper()
	var pc net.PacketConn
	if err := inNetNS(ns, func() (err error) { pc, err = net.ListenPacket("udp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte(prefix), buf[:n]...), from)
		}
	}()
}

// ioTimeout bounds every network wait so a broken rule fails the test
// instead of hanging it; it is not a performance assertion.
const ioTimeout = 5 * time.Second

// readTCP dials addr (from the netns at ns, or the host if ns is "") and
// returns everything the server sends.
func readTCP(ns, addr string) (string, error) { return readTCPWithin(ns, addr, ioTimeout) }

// blockedTimeout is how long a test waits for a connection it expects to
// be dropped; a control in the same test shows the path works otherwise.
const blockedTimeout = 2 * time.Second

func readTCPWithin(ns, addr string, timeout time.Duration) (string, error) {
	var c net.Conn
	dial := func() (err error) { c, err = net.DialTimeout("tcp", addr, timeout); return err }
	var err error
	if ns == "" {
		err = dial()
	} else {
		err = inNetNS(ns, dial)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	b, err := io.ReadAll(c)
	return string(b), err
}

// askUDP sends msg to addr from a fresh host socket and returns the reply.
func askUDP(addr, msg string) (string, error) {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

// freePort returns a port nothing on the host listens on for network
// ("tcp4" or "udp4") right now.
func freePort(t testing.TB, network string) uint16 {
	t.Helper()
	for range 100 {
		p := uint16(20000 + rand.IntN(30000))
		addr := fmt.Sprintf("0.0.0.0:%d", p)
		var err error
		if network == "tcp4" {
			var l net.Listener
			if l, err = net.Listen(network, addr); err == nil {
				l.Close()
			}
		} else {
			var l net.PacketConn
			if l, err = net.ListenPacket(network, addr); err == nil {
				l.Close()
			}
		}
		if err == nil {
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// hostAddr returns a global-scope IPv4 address of a host interface that
// is not a test bridge, or false if the host has none.
func hostAddr(t testing.TB) (netip.Addr, bool) {
	t.Helper()
	as, err := retryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(nil, netlink.FAMILY_V4) })
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		p, ok := ipNetPrefix(a.IPNet)
		if !ok || a.Scope != int(netlink.SCOPE_UNIVERSE) || p.Addr().IsLoopback() {
			continue
		}
		if link, err := netlink.LinkByIndex(a.LinkIndex); err != nil || strings.HasPrefix(link.Attrs().Name, "br-") {
			continue // a berth (or Docker) bridge, maybe another test's
		}
		return p.Addr(), true
	}
	return netip.Addr{}, false
}

// rulesTagged counts h's nft rules tagged tag.
func rulesTagged(t testing.TB, h *Host, tag string) int {
	t.Helper()
	return countRules(t, h, func(r *nftables.Rule) bool { return ruleTag(r) == tag })
}

// countRules counts h's nft rules (of both families) that match.
func countRules(t testing.TB, h *Host, match func(*nftables.Rule) bool) int {
	t.Helper()
	conn, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := h.listRules(conn)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rules {
		if match(r) {
			n++
		}
	}
	return n
}

// netipPrefixNext returns p with the next address, same length.
func netipPrefixNext(p netip.Prefix) netip.Prefix {
	return netip.PrefixFrom(p.Addr().Next(), p.Bits())
}
