package seccache

import (
	"bytes"
	"testing"
)

// An entry survives Marshal and Unmarshal; any changed byte, a short or a
// padded file is refused.
func TestEntryChecked(t *testing.T) {
	e := Entry{Log: bytes.Repeat([]byte("log."), 10), BPF: bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 3)}
	b := e.Marshal()
	got, err := Unmarshal(b)
	if err != nil || !bytes.Equal(got.Log, e.Log) || !bytes.Equal(got.BPF, e.BPF) {
		t.Fatalf("round trip: %v, %+v", err, got)
	}
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x10
		if _, err := Unmarshal(c); err == nil {
			t.Errorf("byte %d changed: accepted", i)
		}
	}
	for _, c := range [][]byte{b[:len(b)-1], append(bytes.Clone(b), 0), b[:10], nil} {
		if _, err := Unmarshal(c); err == nil {
			t.Errorf("%d bytes: accepted", len(c))
		}
	}
}

// A result frame's lengths must account for every byte; a program is
// whole instructions.
func TestParseFrame(t *testing.T) {
	f := Entry{Log: []byte("12345678"), BPF: make([]byte, 16)}.frame()
	if _, err := parseFrame(f); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string][]byte{
		"short":     f[:len(f)-1],
		"padded":    append(bytes.Clone(f), 0),
		"no magic":  append([]byte("x"), f[1:]...),
		"odd insns": Entry{Log: []byte("12345678"), BPF: make([]byte, 12)}.frame(),
		"no bpf":    Entry{Log: []byte("12345678")}.frame(),
	} {
		if _, err := parseFrame(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
