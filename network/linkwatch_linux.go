package network

import (
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
	on      bool                              // the subscription runs
	waiters map[string]map[chan struct{}]bool // by link name
}

// watch returns a channel closed when a link called name is deleted (or
// the subscription ends: a wake-up to look again); nil when the kernel's
// events cannot be had, so the caller looks on its own schedule alone.
// The caller unwatches it.
func (d *linkDeletions) watch(name string) chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.on {
		ch := make(chan netlink.LinkUpdate, 64)
		// Subscribed in the host's namespace: no thread of this process
		// that is away in another one runs anything else meanwhile.
		if err := netlink.LinkSubscribeWithOptions(ch, nil, netlink.LinkSubscribeOptions{}); err != nil {
			return nil
		}
		d.on = true
		go d.dispatch(ch)
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

// unwatch forgets gone, a channel watch returned for name.
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
}

// dispatch wakes the waiters of each deleted link until the subscription
// ends (a receive error, such as an overrun socket buffer), then wakes
// every waiter and lets the next watch subscribe again.
func (d *linkDeletions) dispatch(ch <-chan netlink.LinkUpdate) {
	for u := range ch {
		if u.Header.Type != unix.RTM_DELLINK || u.Link == nil {
			continue
		}
		d.wake(u.Link.Attrs().Name)
	}
	d.mu.Lock()
	d.on = false
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
