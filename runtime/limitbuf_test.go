package runtime

import (
	"strings"
	"testing"
)

func TestLimitedBufferKeeps4KiB(t *testing.T) {
	b := &limitedBuffer{max: maxHealthOutput}
	for range 100 {
		if n, err := b.Write([]byte(strings.Repeat("x", 1000))); n != 1000 || err != nil {
			t.Fatalf("write: %d, %v", n, err)
		}
	}
	if got := b.String(); len(got) != maxHealthOutput+3 || !strings.HasSuffix(got, "x...") {
		t.Errorf("kept %d bytes (%q...)", len(got), got[:10])
	}
	small := &limitedBuffer{max: maxHealthOutput}
	small.Write([]byte("ok\n"))
	if small.String() != "ok\n" {
		t.Errorf("short output: %q", small.String())
	}
}
