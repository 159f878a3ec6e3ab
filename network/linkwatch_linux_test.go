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

// A subscription whose events end on their own (a receive error, such as
// an overrun buffer) has its socket closed and its waiters woken, and the
// next watch subscribes again; the last waiter's leaving ends one too.
func TestLinkSubscriptionRenewed(t *testing.T) {
	rootTest(t)
	var d linkDeletions
	ch, done := make(chan netlink.LinkUpdate), make(chan struct{})
	gone := make(chan struct{})
	d.done, d.waiters = done, map[string]map[chan struct{}]bool{"bt-x": {gone: true}}
	ended := make(chan struct{})
	go func() { d.dispatch(ch, done); close(ended) }()
	close(ch) // as the library does when its receive fails
	<-ended
	select {
	case <-done:
	default:
		t.Fatal("the socket of an ended subscription is left open")
	}
	select {
	case <-gone:
	default:
		t.Fatal("the end of the subscription woke no waiter")
	}
	name := fmt.Sprintf("bt%08x", rand.Uint32())
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = deleteLink(netlink.LinkByName, netlink.LinkDel, name) })
	again := d.watch(name)
	if again == nil || d.done == nil || d.done == done {
		t.Fatal("no new subscription after the last one ended")
	}
	renewed := d.done
	if err := deleteLink(netlink.LinkByName, netlink.LinkDel, name); err != nil {
		t.Fatal(err)
	}
	select {
	case <-again:
	case <-time.After(10 * time.Second):
		t.Fatal("the renewed subscription did not report the deletion")
	}
	d.unwatch(name, again)
	select {
	case <-renewed:
	default:
		t.Error("the subscription outlived its last waiter")
	}
}
