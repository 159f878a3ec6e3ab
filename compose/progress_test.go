package compose

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/reconcile"
)

func TestPlainProgress(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b)
	a := reconcile.Action{ID: "container:x-web-1", Kind: reconcile.Create, Target: "x-web-1"}
	p.event(reconcile.Event{Action: a, Status: reconcile.Started})
	p.pull(image.Progress{Ref: "busybox", Layer: "sha256:0123456789abcdef", Total: 2048, Done: 2048, State: "done"})
	p.event(reconcile.Event{Action: a, Status: reconcile.Failed, Err: errors.New("boom")})
	want := "Container x-web-1  Creating\nImage busybox  layer 0123456789ab  done 2.0kB\nContainer x-web-1  Error: boom\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestTerminalProgressRedrawsInPlace(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b)
	p.tty = true
	start := time.Unix(100, 0)
	p.now = func() time.Time { return start }
	pull := reconcile.Action{ID: "pull:busybox", Kind: reconcile.Pull, Target: "busybox"}
	p.event(reconcile.Event{Action: pull, Status: reconcile.Started})
	p.now = func() time.Time { return start.Add(time.Second) }
	p.pull(image.Progress{Ref: "busybox", Layer: "sha256:aaaaaaaaaaaaaaaa", Total: 1 << 20, Done: 1 << 19, State: "downloading"})
	frame := b.String()[strings.LastIndex(b.String(), "\x1b[1A"):]
	if !strings.Contains(frame, "Image busybox  Pulling [===============>              ] 512.0kB / 1.0MB  512.0kB/s  0/1 layers") ||
		!strings.Contains(frame, "aaaaaaaaaaaa downloading") {
		t.Fatalf("frame %q", frame)
	}
	p.event(reconcile.Event{Action: pull, Status: reconcile.Done, Elapsed: 1500 * time.Millisecond})
	last := b.String()[strings.LastIndex(b.String(), "\x1b[2A"):]
	if !strings.Contains(last, "Image busybox  Pulled  1.5s") || strings.Contains(last, "aaaaaaaaaaaa downloading") {
		t.Fatalf("a finished pull collapses to one line: %q", last)
	}
}

func TestParseDisplay(t *testing.T) {
	for _, c := range []struct {
		progress, ansi string
		want           display
	}{
		{"auto", "auto", displayAuto}, {"auto", "never", displayPlain}, {"tty", "never", displayPlain},
		{"auto", "always", displayTTY}, {"plain", "always", displayPlain}, {"json", "auto", displayJSON}, {"quiet", "never", displayQuiet},
	} {
		if got, err := parseDisplay(c.progress, c.ansi); err != nil || got != c.want {
			t.Errorf("--progress %s --ansi %s: %q %v, want %q", c.progress, c.ansi, got, err, c.want)
		}
	}
	for _, bad := range [][2]string{{"fancy", "auto"}, {"auto", "sometimes"}} {
		if _, err := parseDisplay(bad[0], bad[1]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestJSONAndQuietProgress(t *testing.T) {
	defer func(d display) { currentDisplay = d }(currentDisplay)
	currentDisplay = displayJSON
	var b strings.Builder
	p := newProgress(&b)
	a := reconcile.Action{ID: "container:x-web-1", Kind: reconcile.Create, Target: "x-web-1"}
	p.event(reconcile.Event{Action: a, Status: reconcile.Started})
	p.event(reconcile.Event{Action: a, Status: reconcile.Failed, Err: errors.New("boom")})
	want := `{"id":"Container x-web-1","status":"Working","text":"Creating"}
{"id":"Container x-web-1","status":"Error","text":"Error","details":"boom"}
`
	if b.String() != want {
		t.Fatalf("json progress:\n%s\nwant:\n%s", b.String(), want)
	}
	currentDisplay = displayQuiet
	b.Reset()
	newProgress(&b).event(reconcile.Event{Action: a, Status: reconcile.Started})
	if b.Len() != 0 {
		t.Fatalf("quiet progress printed %q", b.String())
	}
}

func TestEnvBool(t *testing.T) {
	for v, want := range map[string]bool{"1": true, "true": true, "TRUE": true, "yes": true, "0": false, "false": false, "": false} {
		t.Setenv("COMPOSE_TESTFLAG", v)
		if envBool("TESTFLAG") != want {
			t.Errorf("COMPOSE_TESTFLAG=%q: %v", v, !want)
		}
	}
}

// auto is a terminal's display only on a terminal: /dev/null is a
// character device, and output sent there is plain, as Docker Compose's.
func TestAutoDisplayOnDevNull(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if got := displayAuto.resolve(null); got != displayPlain {
		t.Errorf("auto on %s: %q, want %q", os.DevNull, got, displayPlain)
	}
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	defer tty.Close()
	if got := displayAuto.resolve(tty); got != displayTTY {
		t.Errorf("auto on a terminal: %q, want %q", got, displayTTY)
	}
}
