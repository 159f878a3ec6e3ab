package network

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// SysctlChange is one kernel setting berth changed on this host: Key in
// dotted form ("net.ipv4.ip_forward"), Old the value before berth first
// changed it, New the value berth set last.
type SysctlChange struct {
	Key string `json:"key"`
	Old string `json:"old"`
	New string `json:"new"`
}

// sysctlRecord is the file, under the state directory, where changes are
// recorded.
const sysctlRecord = "sysctls.json"

// dotted turns a /proc/sys relative path ("net/ipv4/ip_forward") into
// the key form sysctl(8) prints ("net.ipv4.ip_forward").
func dotted(key string) string { return strings.ReplaceAll(key, "/", ".") }

// recordChange adds the change of key from old to value to rec. The
// first change of a key keeps its Old; later ones only update New.
func recordChange(rec []SysctlChange, key, old, value string) []SysctlChange {
	for i := range rec {
		if rec[i].Key == key {
			rec[i].New = value
			return rec
		}
	}
	rec = append(rec, SysctlChange{Key: key, Old: old, New: value})
	sort.Slice(rec, func(i, j int) bool { return rec[i].Key < rec[j].Key })
	return rec
}

// forget drops the changes whose key matches, such as the per-interface
// settings of a bridge that no longer exists.
func forget(rec []SysctlChange, match func(key string) bool) []SysctlChange {
	out := []SysctlChange{}
	for _, c := range rec {
		if !match(c.Key) {
			out = append(out, c)
		}
	}
	return out
}

func decodeRecord(b []byte) ([]SysctlChange, error) {
	var rec []SysctlChange
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("decoding the sysctl record: %w", err)
	}
	return rec, nil
}
