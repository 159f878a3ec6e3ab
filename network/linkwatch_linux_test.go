package network

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// A waiter for a link's deletion is woken by the kernel's report of it,
// and only by the deletion of its own link.
func TestLinkDeletionsWake(t *testing.T) {
	rootTest(t)
	names := []string{fmt.Sprintf("bt%08x", rand.Uint32()), fmt.Sprintf("bt%08x", rand.Uint32())}
	for _, name := range names {
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = deleteLink(netlink.LinkByName, netlink.LinkDel, name) })
	}
	gone := deletions.watch(names[0])
	other := deletions.watch(names[1])
	if gone == nil || other == nil {
		t.Fatal("no subscription to the kernel's link events")
	}
	defer deletions.unwatch(names[0], gone)
	defer deletions.unwatch(names[1], other)
	if err := deleteLink(netlink.LinkByName, netlink.LinkDel, names[0]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the deletion of the link woke no waiter")
	}
	select {
	case <-other:
		t.Error("the deletion of another link woke a waiter")
	default:
	}
}
