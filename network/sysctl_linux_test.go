package network

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSysctlsRecorded: a new bridge's route_localnet goes from 0 to 1
// and is recorded in the state directory, readable by another Host on
// the same directory; it is forgotten once the bridge is removed.
func TestSysctlsRecorded(t *testing.T) {
	h0 := rootTest(t)
	dir := t.TempDir()
	h := New(WithTable(h0.Table()), WithStateDir(dir))
	b := testBridge(t, h)
	key := dotted("net/ipv4/conf/" + b.Name + "/route_localnet")
	got, err := New(WithTable(h.Table()), WithStateDir(dir)).Sysctls()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range got {
		if c.Key == key {
			found = true
			if c.Old != "0" || c.New != "1" {
				t.Errorf("%s recorded as %+v, want 0 -> 1", key, c)
			}
		}
	}
	if !found {
		t.Errorf("%s not recorded: %+v", key, got)
	}
	if _, err := os.Stat(filepath.Join(dir, sysctlRecord)); err != nil {
		t.Errorf("no record file: %v", err)
	}
	if err := h.RemoveBridge(b); err != nil {
		t.Fatal(err)
	}
	got, err = h.Sysctls()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		if c.Key == key {
			t.Errorf("%s still recorded after RemoveBridge", key)
		}
	}
}
