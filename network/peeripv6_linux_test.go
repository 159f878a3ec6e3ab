package network

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestPeerIPv6AsNetworkHas: a container's interface on a network without
// IPv6 has IPv6 off (disable_ipv6=1, no address, not even link-local, as
// Docker has it), one on a dual-stack network has it on with its
// address, both in one namespace made by CreateNetNSWith and by Attach
// on a namespace made before; the namespace's own defaults stay as the
// kernel makes them and lo keeps ::1. Both ends of each pair have one
// queue each way.
func TestPeerIPv6AsNetworkHas(t *testing.T) {
	h := rootTest(t)
	b4, b6 := testBridge(t, h), testBridge6(t, h)
	kernel := readNetNSSysctls(t, testNetNS(t), "default", "all")

	ns := filepath.Join(t.TempDir(), "netns", "ns")
	l4 := Link{Bridge: b4, HostVeth: VethName(ns, b4.Name), IfName: "eth0", DefaultRoute: true,
		Addr: netip.PrefixFrom(b4.Gateway.Next(), b4.Subnet.Bits())}
	l6 := Link{Bridge: b6, HostVeth: VethName(ns, b6.Name), IfName: "eth1",
		Addr: netip.PrefixFrom(b6.Gateway.Next(), b6.Subnet.Bits()), Addr6: netip.PrefixFrom(b6.Gateway6.Next(), b6.Subnet6.Bits())}
	t.Cleanup(func() {
		for _, l := range []Link{l4, l6} {
			if err := h.Detach(l); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		if err := RemoveNetNS(ns); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := h.CreateNetNSWith(ns, []Link{l4, l6}); err != nil {
		t.Fatal(err)
	}
	checkPeerIPv6(t, ns, kernel, l4, l6)

	// Attach, not in the thread that made the namespace.
	ns2, l := testLink(t, h, b4, 3)
	checkPeerIPv6(t, ns2, kernel, l)
}

// checkPeerIPv6 asserts the IPv6 state and queues of links in ns (see
// TestPeerIPv6AsNetworkHas); kernel holds the namespace defaults.
func checkPeerIPv6(t *testing.T, ns string, kernel map[string]string, links ...Link) {
	t.Helper()
	names := []string{"default", "all", "lo"}
	for _, l := range links {
		names = append(names, l.IfName)
	}
	got := readNetNSSysctls(t, ns, names...)
	for _, k := range []string{"default", "all"} {
		if got[k] != kernel[k] {
			t.Errorf("%s: net.ipv6.conf.%s.disable_ipv6 = %s, want the kernel's %s", ns, k, got[k], kernel[k])
		}
	}
	if got["lo"] != "0" {
		t.Errorf("IPv6 is off on lo")
	}
	var if6 string
	if err := inNetNS(ns, func() error {
		b, err := os.ReadFile("/proc/thread-self/net/if_inet6")
		if6 = string(b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(if6, " lo\n") {
		t.Errorf("lo has no IPv6 address: %q", if6)
	}
	for _, l := range links {
		want := disableIPv6(l.Addr6.IsValid())
		if got[l.IfName] != want {
			t.Errorf("%s: disable_ipv6 = %s, want %s", l.IfName, got[l.IfName], want)
		}
		if has := strings.Contains(if6, " "+l.IfName+"\n"); has != l.Addr6.IsValid() {
			t.Errorf("%s has an IPv6 address: %v, want %v (%q)", l.IfName, has, l.Addr6.IsValid(), if6)
		}
		if l.Addr6.IsValid() && !strings.Contains(if6, strings.ReplaceAll(netip.AddrFrom16(l.Addr6.Addr().As16()).StringExpanded(), ":", "")) {
			t.Errorf("%s lacks its address %v (%q)", l.IfName, l.Addr6, if6)
		}
		host, err := netlink.LinkByName(l.HostVeth)
		if err != nil {
			t.Fatal(err)
		}
		if a := host.Attrs(); a.NumTxQueues != 1 || a.NumRxQueues != 1 {
			t.Errorf("%s: %d tx and %d rx queues, want 1 and 1", l.HostVeth, a.NumTxQueues, a.NumRxQueues)
		}
		if err := inNetNS(ns, func() error {
			peer, err := netlink.LinkByName(l.IfName)
			if err == nil && (peer.Attrs().NumTxQueues != 1 || peer.Attrs().NumRxQueues != 1) {
				t.Errorf("%s: %d tx and %d rx queues, want 1 and 1", l.IfName, peer.Attrs().NumTxQueues, peer.Attrs().NumRxQueues)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// readNetNSSysctls reads net.ipv6.conf.NAME.disable_ipv6 in ns for each
// of names.
func readNetNSSysctls(t *testing.T, ns string, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := inNetNS(ns, func() error {
		for _, n := range names {
			b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + n + "/disable_ipv6")
			if err != nil {
				return err
			}
			out[n] = strings.TrimSpace(string(b))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// On a kernel without IPv6 (no disable_ipv6 files), an interface that
// wants none needs no setting, and one that wants IPv6 fails: the switch
// is read as in a namespace (here) and finds no file, as such a kernel
// answers.
func TestIPv6SwitchWithoutIPv6Files(t *testing.T) {
	n := &netNS{here: true}
	missing := "net/ipv6/conf/berthno0such/disable_ipv6"
	if err := n.ipv6Switch(missing, false); err != nil {
		t.Errorf("IPv6 off where the kernel has none: %v", err)
	}
	if err := n.ipv6Switch(missing, true); err == nil {
		t.Error("IPv6 on where the kernel has none: no error")
	}
}
