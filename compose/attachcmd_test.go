package compose

import (
	"bytes"
	"testing"
)

func TestParseDetachKeys(t *testing.T) {
	for in, want := range map[string][]byte{"ctrl-p,ctrl-q": {16, 17}, "ctrl-a,x": {1, 'x'}, "ctrl-@,ctrl-_,ctrl-[": {0, 31, 27}, "CTRL-Z": {26}} {
		if got, err := parseDetachKeys(in); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ctrl-", "ctrl-1", "ab", "ctrl-p,,ctrl-q"} {
		if _, err := parseDetachKeys(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
