package network

import (
	"reflect"
	"testing"
)

func TestRecordChange(t *testing.T) {
	var rec []SysctlChange
	rec = recordChange(rec, "net.ipv4.ip_forward", "0", "1")
	rec = recordChange(rec, "net.ipv4.conf.br-x.route_localnet", "0", "1")
	rec = recordChange(rec, "net.ipv4.ip_forward", "1", "2") // a second change keeps the first Old
	want := []SysctlChange{
		{Key: "net.ipv4.conf.br-x.route_localnet", Old: "0", New: "1"},
		{Key: "net.ipv4.ip_forward", Old: "0", New: "2"},
	}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("record = %+v, want %+v", rec, want)
	}
	rec = forget(rec, func(k string) bool { return k == "net.ipv4.ip_forward" })
	if len(rec) != 1 || rec[0].Key != "net.ipv4.conf.br-x.route_localnet" {
		t.Errorf("after forget: %+v", rec)
	}
	if got, err := decodeRecord(nil); err != nil || got != nil {
		t.Errorf("decodeRecord(nil) = %v, %v", got, err)
	}
	if _, err := decodeRecord([]byte("{")); err == nil {
		t.Error("decodeRecord of broken JSON succeeded")
	}
}

func TestParsePortRange(t *testing.T) {
	if lo, hi, err := parsePortRange("32768\t60999\n"); err != nil || lo != 32768 || hi != 60999 {
		t.Errorf("parsePortRange = %d, %d, %v", lo, hi, err)
	}
	for _, bad := range []string{"", "1", "5 4", "0 10", "1 70000", "a b"} {
		if _, _, err := parsePortRange(bad); err == nil {
			t.Errorf("parsePortRange(%q) succeeded", bad)
		}
	}
}
