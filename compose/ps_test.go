package compose

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/lifecycle"
)

func TestPsEntry(t *testing.T) {
	d := engine.ContainerDetail{ContainerView: engine.ContainerView{ID: strings.Repeat("ab", 32), Name: "p-web-1", State: lifecycle.Running,
		ExitCode: 3, Health: "healthy", Command: []string{"sh", "-c", "echo a > b; sleep 1000"},
		Ports: []engine.PortView{{HostPort: 8080, ContainerPort: 90, Protocol: "tcp"}}},
		Exposed: []string{"90/tcp", "80/tcp", "53/udp"},
		Mounts:  []engine.MountView{{Type: "volume", Name: "p_a_very_long_volume_name"}, {Type: "bind", Source: "/srv"}}}
	r := newPsEntry(d, true)
	if r.ID() != "abababababab" || r.Command() != `"sh -c echo a > b; s…"` || r.ExitCode() != 0 || r.Health() != "healthy" {
		t.Errorf("ID %q, Command %s, ExitCode %d, Health %q", r.ID(), r.Command(), r.ExitCode(), r.Health())
	}
	if got := r.Ports(); got != "53/udp, 80/tcp, 0.0.0.0:8080->90/tcp" {
		t.Errorf("Ports %q", got)
	}
	if r.Mounts() != "p_a_very_long_…,/srv" || r.LocalVolumes() != "1" {
		t.Errorf("Mounts %q, LocalVolumes %q", r.Mounts(), r.LocalVolumes())
	}
	b, err := r.MarshalJSON()
	if err != nil || !strings.Contains(string(b), `"Command":"\"sh -c echo a > b; s…\""`) || !strings.HasPrefix(string(b), `{"Command":`) {
		t.Errorf("JSON %s, %v", b, err)
	}
	full := newPsEntry(d, false)
	if len(full.ID()) != 64 || full.Mounts() != "p_a_very_long_volume_name,/srv" || !strings.Contains(full.Command(), "sleep 1000") {
		t.Errorf("untruncated: %q %q %q", full.ID(), full.Mounts(), full.Command())
	}
	if got := (psEntry{}).Publishers(); got == nil {
		t.Error("no publishers must be an empty array")
	}
}

func TestPsFilterNameService(t *testing.T) {
	c := engine.ContainerView{Name: "p-web-1", Service: "web", State: lifecycle.Running, Labels: map[string]string{"tier": "front"}}
	for filter, keep := range map[string]bool{"": true, "name=web": true, "name=^p-db": false, "service=web": true, "service=we": false,
		"label=tier=front": true, "label=tier=back": false, "status=exited": false} {
		f, err := parsePsFilter(filter, nil)
		if err != nil || f.keeps(c) != keep {
			t.Errorf("--filter %q: keeps %v, err %v; want %v", filter, f.keeps(c), err, keep)
		}
	}
	for _, bad := range []string{"name", "name=(", "size=1", "label="} {
		if _, err := parsePsFilter(bad, nil); err == nil {
			t.Errorf("--filter %q accepted", bad)
		}
	}
}

func TestDisplayPorts(t *testing.T) {
	pubs := []publisher{{TargetPort: 7001, Protocol: "udp"}, {TargetPort: 7000, Protocol: "udp"}, {TargetPort: 80, Protocol: "tcp"},
		{URL: "0.0.0.0", TargetPort: 81, PublishedPort: 81, Protocol: "tcp"}, {URL: "0.0.0.0", TargetPort: 82, PublishedPort: 82, Protocol: "tcp"},
		{URL: "::", TargetPort: 90, PublishedPort: 9090, Protocol: "tcp"}, {TargetPort: 84, Protocol: "tcp"}}
	want := "80/tcp, 84/tcp, 0.0.0.0:81-82->81-82/tcp, 7000-7001/udp, [::]:9090->90/tcp" // a run cut short is written first, as Docker does
	if got := displayPorts(pubs); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
