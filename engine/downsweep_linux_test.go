package engine

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/berth-dev/berth/reconcile"
	"github.com/vishvananda/netlink"
)

// A down leaves its containers' links to the kernel, which deletes them
// with their network namespaces, and to its network's removal after them,
// which waits for what is left and deletes it. A link the kernel keeps
// because a process outside berth holds its namespace outlives a down cut
// short between the two, and goes with the next down's network removal;
// an up instead makes the container's link afresh in its place, and an up
// that no longer makes that container deletes it when it finds the network
// (so that no new container gets its address twice).
func TestDownCutShortLeavesLinksToTheNext(t *testing.T) {
	for _, next := range []string{"down", "up", "up without it"} {
		t.Run("then "+next, func(t *testing.T) {
			h := newHost(t)
			ctx := context.Background()
			p := h.load(`
services:
  a:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
  b:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
`)
			h.mustUp(p)
			net := h.project + "_default"
			bridge := h.bridge(net)
			a := h.project + "-a-1"
			veth := h.e.vethName(a, net)
			held, err := linkIndex(veth)
			if err != nil {
				t.Fatal(err)
			}
			// A process outside berth holds a's namespace: this one.
			ns, err := os.Open(h.e.netnsPath(a))
			if err != nil {
				t.Fatal(err)
			}
			defer ns.Close()

			// The down, cut short after its containers' removal.
			zero := time.Duration(0)
			plan, err := reconcile.PlanDown(p, mustObserve(t, h, p), reconcile.DownOptions{Timeout: &zero})
			if err != nil {
				t.Fatal(err)
			}
			cut := plan
			cut.Actions = nil
			for _, act := range plan.Actions {
				if act.Kind == reconcile.Remove {
					cut.Actions = append(cut.Actions, act)
				}
			}
			if err := reconcile.Apply(ctx, cut, h.drivers(), 0, nil); err != nil {
				t.Fatal(err)
			}
			if recs, err := h.e.store.Containers(ctx, h.project); err != nil || len(recs) != 0 {
				t.Fatalf("containers left recorded: %v, %v", recs, err)
			}
			if idx, err := linkIndex(veth); err != nil || idx != held {
				t.Fatalf("the held namespace's link %s was not left to the network's removal: index %d (was %d), %v", veth, idx, held, err)
			}

			switch next {
			case "down":
				h.down(false)
				if _, err := netlink.LinkByName(veth); err == nil {
					t.Fatalf("link %s outlived the next down", veth)
				}
				if _, err := netlink.LinkByName(bridge); err == nil {
					t.Fatalf("bridge %s outlived the next down", bridge)
				}
				if _, err := h.e.store.Network(ctx, net); err == nil {
					t.Fatalf("network %s still recorded", net)
				}
			case "up":
				h.mustUp(p)
				idx, err := linkIndex(veth)
				if err != nil || idx == held {
					t.Fatalf("the up did not make %s afresh: index %d (held %d), %v", veth, idx, held, err)
				}
				if again := mustPlan(t, h, p); !again.Empty() {
					t.Fatalf("not converged:\n%s", again)
				}
			case "up without it":
				pb := h.load(`
services:
  b:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
`)
				h.mustUp(pb)
				if _, err := netlink.LinkByName(veth); err == nil {
					t.Fatalf("link %s of removed container %s outlived the next up on its network", veth, a)
				}
				if idx, err := linkIndex(h.e.vethName(h.project+"-b-1", net)); err != nil || idx == 0 {
					t.Fatalf("b's link: %v", err)
				}
				if again := mustPlan(t, h, pb); !again.Empty() {
					t.Fatalf("not converged:\n%s", again)
				}
			}
		})
	}
}

// linkIndex is the index of the host's link called name.
func linkIndex(name string) (int, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return 0, err
	}
	return l.Attrs().Index, nil
}
