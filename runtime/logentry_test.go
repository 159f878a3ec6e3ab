package runtime

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"
)

// A log line is the bytes encoding/json (v1, as Docker's json-file driver)
// writes, whichever implementation the binary is built with: the bytes
// that are not UTF-8 as \ufffd each (GOEXPERIMENT=jsonv2's encoding/json
// writes a raw U+FFFD there), HTML-safe, U+2028/U+2029 escaped.
func TestAppendLogEntry(t *testing.T) {
	at := time.Date(2026, 12, 6, 19, 32, 24, 53173530, time.FixedZone("x", 3600))
	for _, c := range []struct{ text, want string }{
		{"hi\n", `{"log":"hi\n","stream":"stdout","time":"2026-12-06T18:32:24.05317353Z"}`},
		{"<a&b>\t\"q\" \\ \x01\x1f\b\f\r caf\u00e9 \u2028\u2029 \xff \xe2\x82\n",
			`{"log":"\u003ca\u0026b\u003e\t\"q\" \\ \u0001\u001f\b\f\r café \u2028\u2029 \ufffd \ufffd\ufffd\n","stream":"stdout","time":"2026-12-06T18:32:24.05317353Z"}`},
		{"", `{"log":"","stream":"stdout","time":"2026-12-06T18:32:24.05317353Z"}`},
		{"\xed\xa0\x80 \xf4\x90\x80\x80 \U0001F600", `{"log":"\ufffd\ufffd\ufffd \ufffd\ufffd\ufffd\ufffd 😀","stream":"stdout","time":"2026-12-06T18:32:24.05317353Z"}`},
	} {
		if got := string(appendLogEntry(nil, "stdout", []byte(c.text), at)); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.text, got, c.want)
		}
	}
	// Every ASCII byte and some runes, valid UTF-8: as encoding/json
	// encodes them (both implementations agree there).
	var text []byte
	for b := 0; b < utf8.RuneSelf; b++ {
		text = append(text, byte(b))
	}
	text = append(text, "é€😀\u2028\u2029\u00a0\ufeff"...)
	want, err := json.Marshal(jsonLogEntry{Log: string(text), Stream: "stderr", Time: at.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatal(err)
	}
	if got := appendLogEntry(nil, "stderr", text, at); string(got) != string(want) {
		t.Errorf("all ASCII:\n got %s\nwant %s", got, want)
	}
}
