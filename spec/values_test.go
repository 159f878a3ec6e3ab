package spec

import (
	"encoding/json"
	"testing"
)

// Each typed value reads back what it writes, and refuses what is not one.
func TestValuesRoundTrip(t *testing.T) {
	for _, text := range []string{"service:db", "service:db:ro", "container:box:rw"} {
		v := parsed[VolumesFrom](text)[0]
		if b, _ := v.MarshalText(); string(b) != text {
			t.Errorf("volumes_from %q -> %q", text, b)
		}
	}
	if v := parsed[VolumesFrom]("service:db:ro")[0]; !v.ReadOnly() || v.Container || v.Name != "db" {
		t.Errorf("service:db:ro: %+v", v)
	}
	for _, text := range []string{"db:10.0.0.5", "v6.local:fd00::1", "gw:host-gateway"} {
		h := parsed[ExtraHost](text)[0]
		if b, _ := h.MarshalText(); string(b) != text {
			t.Errorf("extra_hosts %q -> %q", text, b)
		}
	}
	for _, text := range []string{"8080", "8000-8010"} {
		if r := published(text); r.String() != text {
			t.Errorf("published %q -> %q", text, r)
		}
	}
	for _, bad := range []string{"x", "0", "9-1", "70000", "1-x"} {
		if _, err := ParsePortRange(bad); err == nil {
			t.Errorf("published %q: want an error", bad)
		}
	}
	var v VolumesFrom
	for _, bad := range []string{"db", "service:", "pod:x", "service:db:rx"} {
		if err := v.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("volumes_from %q: want an error", bad)
		}
	}
	var h ExtraHost
	if err := h.UnmarshalText([]byte("db:nope")); err == nil {
		t.Error("extra_hosts db:nope: want an error")
	}
	// A recorded spec written before the types reads back the same.
	var s Service
	old := `{"extra_hosts":["a:1.2.3.4"],"volumes_from":["service:db:ro"],"ports":[{"host_ip":"127.0.0.1","published":"8443","target":443,"protocol":"tcp"}],` +
		`"networks":{"n":{"ipv4_address":"10.0.0.2"}},"secrets":[{"source":"s","target":"/run/secrets/s","uid":"1000"}]}`
	if err := json.Unmarshal([]byte(old), &s); err != nil {
		t.Fatal(err)
	}
	if s.Ports[0].HostIP.String() != "127.0.0.1" || s.Ports[0].Published != (PortRange{8443, 8443}) || *s.Secrets[0].UID != 1000 ||
		s.Networks["n"].IPv4Address.String() != "10.0.0.2" || !s.VolumesFrom[0].ReadOnly() || s.ExtraHosts[0].Name != "a" {
		t.Fatalf("read back: %+v", s)
	}
}
