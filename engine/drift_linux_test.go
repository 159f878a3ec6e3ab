package engine

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/reconcile"
)

// What happens to the host behind berth's back becomes plan actions: a
// flushed firewall and a deleted bridge are repaired by the next up.
func TestUpRepairsDrift(t *testing.T) {
	h := newHost(t)
	port := testutil.FreePort(t)
	p := h.load(fmt.Sprintf(`
services:
  web:
    image: berth-test/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo drift-ok > /www/index.html; exec httpd -f -p 80 -h /www"]
    ports: ["%d:80"]
    stop_grace_period: 100ms
`, port))
	h.mustUp(p)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if got := testutil.HTTPGet(t, url); got != "drift-ok" {
		t.Fatalf("before: %q", got)
	}
	for _, c := range []struct {
		name    string
		break_  []string
		reasons []string
	}{
		{"firewall flushed", []string{"nft", "delete", "table", "ip", h.e.net.Table()},
			[]string{"its bridge or its firewall rules are gone from the host", "the rules of its published ports are gone from the host"}},
		{"bridge deleted", []string{"ip", "link", "del", h.bridge(h.project + "_default")},
			[]string{"its bridge or its firewall rules are gone from the host", "its link to network " + h.project + "_default is gone from the host"}},
	} {
		if out, err := exec.Command(c.break_[0], c.break_[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", c.name, err, out)
		}
		plan := mustPlan(t, h, p)
		var reasons []string
		for _, a := range plan.Actions {
			if a.Kind == reconcile.CreateNetwork || a.Kind == reconcile.Remove {
				reasons = append(reasons, a.Reason)
			}
		}
		if strings.Join(reasons, "|") != strings.Join(c.reasons, "|") {
			t.Fatalf("%s: plan:\n%s", c.name, plan)
		}
		h.mustUp(p)
		if got := testutil.HTTPGet(t, url); got != "drift-ok" {
			t.Fatalf("%s: after up: %q", c.name, got)
		}
		if again := mustPlan(t, h, p); !again.Empty() {
			t.Fatalf("%s: not converged:\n%s", c.name, again)
		}
	}
}

// bridge is the kernel name of network's bridge.
func (h *host) bridge(network string) string {
	h.t.Helper()
	n, err := h.e.store.Network(h.t.Context(), network)
	if err != nil {
		h.t.Fatal(err)
	}
	return n.Bridge
}

// Losing only the IPv6 half of a dual-stack network's rules is drift too.
func TestHalfFlushedDualStackIsDrift(t *testing.T) {
	h := newHost(t)
	p := h.load(`
services:
  a:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
    stop_grace_period: 100ms
networks:
  default:
    enable_ipv6: true
`)
	h.mustUp(p)
	if out, err := exec.Command("nft", "delete", "table", "ip6", h.e.net.Table()).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	plan := mustPlan(t, h, p)
	if len(plan.Actions) == 0 || plan.Actions[0].Kind != reconcile.CreateNetwork {
		t.Fatalf("plan:\n%s", plan)
	}
	h.mustUp(p)
	if again := mustPlan(t, h, p); !again.Empty() {
		t.Fatalf("not converged:\n%s", again)
	}
}

// A network cannot change in place: up refuses, naming what changed.
func TestChangedNetworkNeedsDown(t *testing.T) {
	h := newHost(t)
	yaml := `
services:
  a:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
    stop_grace_period: 100ms
networks:
  default:
    internal: false
`
	h.mustUp(h.load(yaml))
	_, err := h.up(h.load(strings.Replace(yaml, "internal: false", "internal: true", 1)))
	if err == nil || !strings.Contains(err.Error(), "internal changed in the stack file") || !strings.Contains(err.Error(), "berth down") {
		t.Fatalf("up with a changed network: %v", err)
	}
}
