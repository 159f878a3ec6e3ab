package network

import (
	"os"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// deletions tells the process's waiters for a link's deletion when the
// kernel reports it, from one subscription to the host's link events that
// every waiter shares, so that DetachAfter learns of the kernel's batched
// deletion at once instead of at its next look.
var deletions linkDeletions

type linkDeletions struct {
	mu      sync.Mutex
	done    chan struct{}                     // closes the running subscription's socket; nil when none runs
	waiters map[string]map[chan struct{}]bool // by link name
}

// eventBuffer is the receive buffer of the subscription's socket: a big
// down deletes many links at once, and an overrun buffer (ENOBUFS) ends
// the subscription.
const eventBuffer = 4 << 20

// watch returns a channel closed when a link called name is deleted (or
// the subscription ends: a wake-up to look again); nil when the kernel's
// events cannot be had, so the caller looks on its own schedule alone.
// The caller unwatches it.
func (d *linkDeletions) watch(name string) chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done == nil {
		ch, done := make(chan netlink.LinkUpdate, 64), make(chan struct{})
		if err := subscribeLinks(ch, done); err != nil {
			return nil
		}
		d.done = done
		go d.dispatch(ch, done)
	}
	if d.waiters == nil {
		d.waiters = map[string]map[chan struct{}]bool{}
	}
	if d.waiters[name] == nil {
		d.waiters[name] = map[chan struct{}]bool{}
	}
	gone := make(chan struct{})
	d.waiters[name][gone] = true
	return gone
}

// subscribeLinks subscribes ch to the host's link events until done
// closes (which closes the socket), with a receive buffer of
// eventBuffer: forced past the host's limit where the process may (it
// has CAP_NET_ADMIN), else as big as the limit lets it be. Subscribed in
// the host's namespace: no thread of this process that is away in
// another one runs anything else meanwhile.
func subscribeLinks(ch chan netlink.LinkUpdate, done chan struct{}) error {
	opts := netlink.LinkSubscribeOptions{ReceiveBufferSize: eventBuffer, ReceiveBufferForceSize: os.Geteuid() == 0}
	err := netlink.LinkSubscribeWithOptions(ch, done, opts)
	if err != nil && opts.ReceiveBufferForceSize {
		opts.ReceiveBufferForceSize = false
		err = netlink.LinkSubscribeWithOptions(ch, done, opts)
	}
	return err
}

// unwatch forgets gone, a channel watch returned for name; the last
// waiter's leaving ends the subscription (the next watch makes another).
func (d *linkDeletions) unwatch(name string, gone chan struct{}) {
	if gone == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.waiters[name], gone)
	if len(d.waiters[name]) == 0 {
		delete(d.waiters, name)
	}
	if len(d.waiters) == 0 && d.done != nil {
		close(d.done)
		d.done = nil
	}
}

// dispatch wakes the waiters of each deleted link until the subscription
// ends (its socket closed by done, or a receive error such as an overrun
// buffer). One that ended on its own has its socket closed, every waiter
// woken, and the next watch subscribes again.
func (d *linkDeletions) dispatch(ch <-chan netlink.LinkUpdate, done chan struct{}) {
	for u := range ch {
		if u.Header.Type != unix.RTM_DELLINK || u.Link == nil {
			continue
		}
		d.wake(u.Link.Attrs().Name)
	}
	d.mu.Lock()
	if d.done != done {
		d.mu.Unlock()
		return // ended by its last waiter's leaving
	}
	close(done)
	d.done = nil
	all := d.waiters
	d.waiters = nil
	d.mu.Unlock()
	for _, ws := range all {
		for gone := range ws {
			close(gone)
		}
	}
}

// wake closes the channels of name's waiters and forgets them.
func (d *linkDeletions) wake(name string) {
	d.mu.Lock()
	ws := d.waiters[name]
	delete(d.waiters, name)
	d.mu.Unlock()
	for gone := range ws {
		close(gone)
	}
}
