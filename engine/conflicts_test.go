package engine

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// createOf is a plan's create step of container name of project, publishing ports.
func createOf(project, name string, ports ...spec.Port) reconcile.Action {
	return reconcile.Action{Kind: reconcile.Create, Target: name, Container: &reconcile.ContainerSpec{
		Project: project, Name: name, Service: spec.Service{Name: "svc", Ports: ports}}}
}

func fixed(ip string, port uint16, proto string) spec.Port {
	var a netip.Addr
	if ip != "" {
		a = netip.MustParseAddr(ip)
	}
	return spec.Port{HostIP: a, Published: spec.PortRange{Lo: port, Hi: port}, Target: 80, Protocol: proto}
}

func freeHost() holdings {
	return holdings{containers: map[string]store.Container{},
		portHolder: func(string, netip.Addr, uint16) string { return "" },
		linkHolder: func(string) string { return "" }}
}

func TestConflictsContainerName(t *testing.T) {
	h := freeHost()
	h.containers["web-app-db-1"] = store.Container{ID: strings.Repeat("a", 64), Name: "web-app-db-1", Project: "web-app", Service: "db"}
	errs := conflicts(reconcile.Plan{Actions: []reconcile.Action{createOf("web", "web-app-db-1")}}, h)
	if len(errs) != 1 || !errors.Is(errs[0], ErrConflict) {
		t.Fatalf("another project's name: %v", errs)
	}
	for _, want := range []string{`"/web-app-db-1" is already in use by container "` + strings.Repeat("a", 64), `project "web-app"`, `service "svc"`} {
		if !strings.Contains(errs[0].Error(), want) {
			t.Errorf("error %q lacks %q", errs[0], want)
		}
	}
	if errs := conflicts(reconcile.Plan{Actions: []reconcile.Action{createOf("web-app", "web-app-db-1")}}, h); len(errs) != 0 {
		t.Errorf("the project's own container (a recreate) is no conflict: %v", errs)
	}
}

func TestConflictsPorts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		recorded store.Port
		want     spec.Port
		conflict bool
	}{
		{"same port, every address", store.Port{Container: "o-a-1", Protocol: "tcp", HostPort: 8080}, fixed("", 8080, "tcp"), true},
		{"0.0.0.0 against 127.0.0.1", store.Port{Container: "o-a-1", Protocol: "tcp", HostIP: "0.0.0.0", HostPort: 8080}, fixed("127.0.0.1", 8080, "tcp"), true},
		{":: against 127.0.0.1", store.Port{Container: "o-a-1", Protocol: "tcp", HostIP: "::", HostPort: 8080}, fixed("127.0.0.1", 8080, "tcp"), true},
		{"two loopback addresses", store.Port{Container: "o-a-1", Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 8080}, fixed("127.0.0.2", 8080, "tcp"), false},
		{"0.0.0.0 against ::1", store.Port{Container: "o-a-1", Protocol: "tcp", HostIP: "0.0.0.0", HostPort: 8080}, fixed("::1", 8080, "tcp"), false},
		{"udp against tcp", store.Port{Container: "o-a-1", Protocol: "udp", HostPort: 8080}, fixed("", 8080, "tcp"), false},
		{"udp against udp", store.Port{Container: "o-a-1", Protocol: "udp", HostPort: 53}, fixed("", 53, "udp"), true},
		{"its own port (recreate)", store.Port{Container: "p-web-1", Protocol: "tcp", HostPort: 8080}, fixed("", 8080, "tcp"), false},
	} {
		h := freeHost()
		h.ports = []store.Port{tc.recorded}
		errs := conflicts(reconcile.Plan{Actions: []reconcile.Action{createOf("p", "p-web-1", tc.want)}}, h)
		if got := len(errs) > 0; got != tc.conflict {
			t.Errorf("%s: conflict %v, want %v (%v)", tc.name, got, tc.conflict, errs)
			continue
		}
		if tc.conflict && (!strings.Contains(errs[0].Error(), "port is already allocated") || !strings.Contains(errs[0].Error(), "o-a-1")) {
			t.Errorf("%s: error names neither Docker's words nor the holder: %v", tc.name, errs[0])
		}
	}
	// A container the plan removes first gives its port up.
	h := freeHost()
	h.ports = []store.Port{{Container: "p-old-1", Protocol: "tcp", HostPort: 8080}}
	plan := reconcile.Plan{Actions: []reconcile.Action{{Kind: reconcile.Remove, Target: "p-old-1"}, createOf("p", "p-web-1", fixed("", 8080, "tcp"))}}
	if errs := conflicts(plan, h); len(errs) != 0 {
		t.Errorf("a removed container's port: %v", errs)
	}
	// Two creates of one plan on one port: the second is refused, naming the first.
	plan = reconcile.Plan{Actions: []reconcile.Action{createOf("p", "p-a-1", fixed("", 9000, "tcp")), createOf("p", "p-b-1", fixed("127.0.0.1", 9000, "tcp"))}}
	if errs := conflicts(plan, freeHost()); len(errs) != 1 || !strings.Contains(errs[0].Error(), "p-a-1") {
		t.Errorf("two creates on one port: %v", errs)
	}
	// A host process.
	h = freeHost()
	h.portHolder = func(proto string, ip netip.Addr, port uint16) string {
		if proto == "udp" && port == 5353 {
			return "process 42 (avahi)"
		}
		return ""
	}
	errs := conflicts(reconcile.Plan{Actions: []reconcile.Action{createOf("p", "p-a-1", fixed("", 5353, "udp"), fixed("", 5353, "tcp"))}}, h)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "Bind for 0.0.0.0:5353 failed") ||
		!strings.Contains(errs[0].Error(), "address already in use") || !strings.Contains(errs[0].Error(), "process 42 (avahi)") {
		t.Errorf("a host process's port: %v", errs)
	}
	// Ephemeral ports and ranges are Create's to choose.
	h.portHolder = func(string, netip.Addr, uint16) string { return "process 1 (init)" }
	ranged := spec.Port{Published: spec.PortRange{Lo: 8000, Hi: 8010}, Target: 80}
	if errs := conflicts(reconcile.Plan{Actions: []reconcile.Action{createOf("p", "p-a-1", spec.Port{Target: 80}, ranged)}}, h); len(errs) != 0 {
		t.Errorf("ephemeral and ranged ports: %v", errs)
	}
}

func TestConflictsBridgeName(t *testing.T) {
	network := func(name, bridge string) reconcile.Action {
		return reconcile.Action{Kind: reconcile.CreateNetwork, Target: name, Network: &spec.Network{Name: name, DriverOpts: map[string]string{optBridgeName: bridge}}}
	}
	h := freeHost()
	h.linkHolder = func(name string) string {
		if name == "br0" {
			return "bridge interface br0"
		}
		return ""
	}
	h.networks = []store.Network{{Name: "other_net", Bridge: "brother"}, {Name: "p_net", Bridge: "brmine"}}
	errs := conflicts(reconcile.Plan{Actions: []reconcile.Action{network("p_default", "br0"), network("p_x", "brother"), network("p_net", "brmine"), network("p_y", "brfree")}}, h)
	if len(errs) != 2 {
		t.Fatalf("want 2 conflicts (host br0, other_net's bridge), got %v", errs)
	}
	if !strings.Contains(errs[0].Error(), `network p_default`) || !strings.Contains(errs[0].Error(), "bridge interface br0") || !strings.Contains(errs[0].Error(), "berth did not create") {
		t.Errorf("host bridge: %v", errs[0])
	}
	if !strings.Contains(errs[1].Error(), "network p_x") || !strings.Contains(errs[1].Error(), "other_net") {
		t.Errorf("another network's bridge: %v", errs[1])
	}
}

// TestConflictsStartFirst: a start-first successor publishes the same
// host port as the container it replaces, which both hold for a moment;
// that is no conflict, but a third container's port still is.
func TestConflictsStartFirst(t *testing.T) {
	h := freeHost()
	h.ports = []store.Port{{Container: "p-web-1", Protocol: "tcp", HostPort: 8080}, {Container: "o-x-1", Protocol: "tcp", HostPort: 9090}}
	create := createOf("p", "p-web-2", fixed("", 8080, "tcp"))
	create.Replaces = "p-web-1"
	create.Container.Standby = true
	plan := reconcile.Plan{Actions: []reconcile.Action{create,
		{Kind: reconcile.SwitchPorts, Target: "p-web-2", Replaces: "p-web-1", Container: create.Container},
		{Kind: reconcile.Stop, Target: "p-web-1", Successor: "p-web-2"},
		{Kind: reconcile.Remove, Target: "p-web-1", Successor: "p-web-2"}}}
	if errs := conflicts(plan, h); len(errs) != 0 {
		t.Fatalf("start-first overlap refused: %v", errs)
	}
	create.Container.Service.Ports = append(create.Container.Service.Ports, fixed("", 9090, "tcp"))
	if errs := conflicts(plan, h); len(errs) != 1 || !strings.Contains(errs[0].Error(), "o-x-1") {
		t.Fatalf("a third container's port: %v", errs)
	}
}
