package compose

import (
	"bytes"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
)

func TestLogsOptions(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	lo, err := logsOptions{tail: "5", since: "10m", until: "1700000000"}.logOptions(now)
	if err != nil || lo.Tail != 5 || !lo.Since.Equal(now.Add(-10*time.Minute)) || !lo.Until.Equal(now) {
		t.Errorf("got %+v, %v", lo, err)
	}
	if lo, err := (logsOptions{tail: "all"}).logOptions(now); err != nil || lo.Tail != -1 || !lo.Since.IsZero() {
		t.Errorf("defaults: %+v, %v", lo, err)
	}
	for _, bad := range []logsOptions{{tail: "x"}, {tail: "all", since: "soon"}, {tail: "all", until: "2024-13-01"}, {tail: "all", index: -1}} {
		if _, err := bad.logOptions(now); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestWithIndex(t *testing.T) {
	recs := []engine.ContainerView{{Service: "a", Number: 1}, {Service: "a", Number: 2}, {Service: "b", Number: 2}}
	if got := withIndex(recs, 0); len(got) != 3 {
		t.Errorf("index 0 kept %v", got)
	}
	if got := withIndex(append([]engine.ContainerView(nil), recs...), 2); len(got) != 2 || got[0].Number != 2 || got[1].Number != 2 {
		t.Errorf("index 2 kept %v", got)
	}
}

func TestLogPrinter(t *testing.T) {
	var out, errOut bytes.Buffer
	p := newLogsPrinter(&out, &errOut, false, true, false)
	a, b := engine.ContainerView{Name: "p-a-1", Service: "a", Number: 1}, engine.ContainerView{Name: "p-web-10", Service: "web", Number: 10}
	p.widen([]engine.ContainerView{a, b})
	p.print(a, engine.LogLine{Stream: "stdout", Text: "hi\n"})
	p.print(b, engine.LogLine{Stream: "stderr", Text: "no"})
	if out.String() != "a-1    | hi\n" || errOut.String() != "web-10 | no\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	out.Reset()
	p = newLogsPrinter(&out, &out, true, false, true)
	when := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	p.print(a, engine.LogLine{Stream: "stdout", Time: when, Text: "x\n"})
	if out.String() != "2024-01-02T03:04:05.000000006Z x\n" {
		t.Errorf("no prefix, timestamps: %q", out.String())
	}
	if last, ok := p.lastLine("p-a-1"); !ok || !last.Equal(when) {
		t.Errorf("last line of p-a-1: %v %v", last, ok)
	}
}
