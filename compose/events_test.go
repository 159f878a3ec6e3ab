package compose

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
)

// --since and --until take docker events' forms.
func TestParseEventTime(t *testing.T) {
	zone := time.FixedZone("X", 3600)
	now := time.Date(2024, 1, 2, 12, 0, 30, 500, zone)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"10m", time.Date(2024, 1, 2, 11, 50, 30, 0, zone)},
		{"-1h", time.Date(2024, 1, 2, 13, 0, 30, 0, zone)},
		{"1700000000", time.Unix(1700000000, 0)},
		{"1700000000.25", time.Unix(1700000000, 250000000)},
		{"0", time.Unix(0, 0)},
		{"2024-01-01T10:00:00Z", time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)},
		{"2024-01-01T10:00:00+02:00", time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)},
		{"2024-01-01T10:00:00.5Z", time.Date(2024, 1, 1, 10, 0, 0, 500000000, time.UTC)},
		{"2024-01-01T10:00:00", time.Date(2024, 1, 1, 10, 0, 0, 0, zone)},
		{"2024-01-01T10:00", time.Date(2024, 1, 1, 10, 0, 0, 0, zone)},
		{"2024-01-01T10", time.Date(2024, 1, 1, 10, 0, 0, 0, zone)},
		{"2024-01-01", time.Date(2024, 1, 1, 0, 0, 0, 0, zone)},
		{"2024-01-01Z", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := parseDockerTime(c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"yesterday", "2024-13-01", "12:00", "1.2.3"} {
		if _, err := parseDockerTime(bad, now); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if _, err := timeFlag("since", "soon", now); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Errorf("the error does not name the flag: %v", err)
	}
}

func sampleEvent() engine.ContainerEvent {
	return engine.ContainerEvent{Time: time.Date(2024, 1, 1, 12, 0, 0, 123456789, time.Local), Action: "die", ID: "abc", Service: "web",
		Attributes: map[string]string{"exitCode": "3", "name": "p-web-1", "image": "busybox", "com.docker.compose.project": "p", "tier": "front"}}
}

// The text form is Docker Compose's, a blank line after each event.
func TestWriteEventText(t *testing.T) {
	var b bytes.Buffer
	if err := writeEvent(&b, sampleEvent(), false); err != nil {
		t.Fatal(err)
	}
	want := "2024-01-01 12:00:00.123456 container die abc (exitCode=3, image=busybox, name=p-web-1, tier=front)\n\n"
	if b.String() != want {
		t.Fatalf("got %q\nwant %q", b.String(), want)
	}
}

// The JSON form is Docker Compose's object, one a line, without its labels.
func TestWriteEventJSON(t *testing.T) {
	var b bytes.Buffer
	ev := sampleEvent()
	ev.Time = time.Date(2024, 1, 1, 12, 0, 0, 123456789, time.UTC)
	if err := writeEvent(&b, ev, true); err != nil {
		t.Fatal(err)
	}
	want := `{"action":"die","attributes":{"exitCode":"3","image":"busybox","name":"p-web-1","tier":"front"},"id":"abc","service":"web","time":"2024-01-01T12:00:00.123456789Z","type":"container"}` + "\n"
	if b.String() != want {
		t.Fatalf("got %s\nwant %s", b.String(), want)
	}
}

// One-off containers' events are never shown; services filter.
func TestEventShown(t *testing.T) {
	ev := sampleEvent()
	if !eventShown(ev, nil) || !eventShown(ev, []string{"db", "web"}) || eventShown(ev, []string{"db"}) {
		t.Fatal("service filter")
	}
	ev.Attributes["com.docker.compose.oneoff"] = "True"
	if eventShown(ev, nil) {
		t.Fatal("a one-off's event shown")
	}
}
