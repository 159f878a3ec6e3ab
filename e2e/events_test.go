package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// jsonEvent is a line of `events --json`.
type jsonEvent struct {
	Time       time.Time         `json:"time"`
	Type       string            `json:"type"`
	Action     string            `json:"action"`
	ID         string            `json:"id"`
	Service    string            `json:"service"`
	Attributes map[string]string `json:"attributes"`
}

const eventsStack = `
services:
  web:
    image: berth-e2e/busybox:1
    network_mode: none
    labels: {tier: front}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    healthcheck: {test: ["CMD", "true"], interval: 200ms}
  fail:
    image: berth-e2e/busybox:1
    network_mode: none
    restart: on-failure:1
    command: ["sh", "-c", "sleep 0.2; exit 3"]
`

// eventStream reads `events --json` as it runs.
type eventStream struct {
	t   *testing.T
	r   *running
	all []jsonEvent
	pos map[string]int // per service: where in all to look for its next event
}

// next returns the next event of service with action after the last one
// next returned for service, reading more events until it comes.
func (s *eventStream) next(service, action string) jsonEvent {
	s.t.Helper()
	timeout := time.After(30 * time.Second)
	for i := s.pos[service]; ; i++ {
		for i == len(s.all) {
			select {
			case l, ok := <-s.r.lines:
				if !ok {
					s.t.Fatalf("events ended before %s %s; saw %+v", service, action, s.all)
				}
				var ev jsonEvent
				if err := json.Unmarshal([]byte(l), &ev); err != nil {
					s.t.Fatalf("events --json printed %q: %v", l, err)
				}
				s.all = append(s.all, ev)
			case <-timeout:
				s.t.Fatalf("no %s %s in time; saw %+v", service, action, s.all)
			}
		}
		if ev := s.all[i]; ev.Service == service && ev.Action == action {
			s.pos[service] = i + 1
			return ev
		}
	}
}

// actions are the actions of service's events, in order, the repeated
// health statuses of later runs left out.
func actions(evs []jsonEvent, service string) []string {
	var out []string
	for _, ev := range evs {
		if ev.Service == service && !(strings.HasPrefix(ev.Action, "health_status") && slices.Contains(out, ev.Action)) {
			out = append(out, ev.Action)
		}
	}
	return out
}

// waitFollowing waits until an `events` command follows the store: it
// creates the wake file when it starts watching.
func waitFollowing(t *testing.T, u *user) {
	t.Helper()
	eventually(t, "events following", func() bool {
		_, err := os.Stat(filepath.Join(u.root, "events.wake"))
		return err == nil
	})
	time.Sleep(100 * time.Millisecond) // from its watch to its first read
}

// `events --json`, started before `up`, sees each container's life in
// order with Docker's attributes: create, start, a healthcheck turning
// healthy, a policy restart (die, then start), stop (kill 15, die, stop),
// kill (kill 9, die 137), pause, unpause, restart (stop, start, then
// restart) and destroy. --since replays the
// same events, --until ends the command, SERVICE filters, and the text
// form is Docker Compose's.
func TestEvents(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, eventsStack, "-t", "0")
	if _, err := u.try("events", "--since", "yesterday"); err == nil {
		t.Fatal("a bad --since accepted")
	}
	if _, err := u.try("events", "nosuch"); err == nil {
		t.Fatal("an unknown service accepted")
	}
	since := time.Now()
	s := &eventStream{t: t, r: u.start("events", "--json"), pos: map[string]int{}}
	waitFollowing(t, u)

	u.run("up", "-d")
	create := s.next("web", "create")
	name := u.project + "-web-1"
	if create.Type != "container" || len(create.ID) != 64 || create.Attributes["name"] != name ||
		create.Attributes["image"] != "berth-e2e/busybox:1" || create.Attributes["tier"] != "front" {
		t.Fatalf("create event: %+v", create)
	}
	for k := range create.Attributes {
		if strings.HasPrefix(k, "com.docker.compose.") {
			t.Fatalf("Compose's labels are not shown: %+v", create)
		}
	}
	s.next("web", "health_status: healthy")
	if die := s.next("fail", "die"); die.Attributes["exitCode"] != "3" || die.Attributes["execDuration"] == "" {
		t.Fatalf("die event: %+v", die)
	}
	s.next("fail", "start") // restarted by its policy
	s.next("fail", "die")

	u.run("stop", "web")
	s.next("web", "stop")
	u.run("start", "web")
	s.next("web", "start")
	u.run("kill", "web")
	s.next("web", "die")
	u.run("start", "web")
	s.next("web", "start")
	u.run("pause", "web")
	s.next("web", "pause")
	u.run("unpause", "web")
	s.next("web", "unpause")
	u.run("restart", "web")
	s.next("web", "restart")
	u.run("down", "-t", "5")
	s.next("web", "destroy")
	s.next("fail", "destroy")
	until := time.Now()

	wantWeb := []string{"create", "start", "health_status: healthy", "kill", "die", "stop", "start", "kill", "die", "start",
		"pause", "unpause", "kill", "die", "stop", "start", "restart", "kill", "die", "stop", "destroy"}
	if got := actions(s.all, "web"); !slices.Equal(got, wantWeb) {
		t.Fatalf("web's events:\n got %q\nwant %q", got, wantWeb)
	}
	wantFail := []string{"create", "start", "die", "start", "die", "destroy"}
	if got := actions(s.all, "fail"); !slices.Equal(got, wantFail) {
		t.Fatalf("fail's events:\n got %q\nwant %q", got, wantFail)
	}
	var kills, dies []string
	for _, ev := range s.all {
		if ev.Service == "web" && ev.Action == "kill" {
			kills = append(kills, ev.Attributes["signal"])
		}
		if ev.Service == "web" && ev.Action == "die" {
			dies = append(dies, ev.Attributes["exitCode"])
		}
	}
	if !slices.Equal(kills, []string{"15", "9", "15", "15"}) || !slices.Equal(dies, []string{"0", "137", "0", "0"}) {
		t.Fatalf("kill signals %q, die exit codes %q", kills, dies)
	}

	// --since replays them all, --until ends the command there.
	rng := []string{"--since", since.Format(time.RFC3339Nano), "--until", until.Format(time.RFC3339Nano)}
	var replay []jsonEvent
	for _, l := range strings.Split(strings.TrimSpace(u.run(append([]string{"events", "--json"}, rng...)...)), "\n") {
		var ev jsonEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		replay = append(replay, ev)
	}
	if fmt.Sprint(replay) != fmt.Sprint(s.all) {
		t.Fatalf("replayed:\n%+v\nlive:\n%+v", replay, s.all)
	}
	only := u.run(append([]string{"events", "--json"}, append(rng, "fail")...)...)
	if n := strings.Count(only, "\n"); n != len(wantFail) || strings.Contains(only, `"service":"web"`) {
		t.Fatalf("events fail: %s", only)
	}
	text := strings.Split(u.run(append([]string{"events"}, append(rng, "web")...)...), "\n")
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} container create [0-9a-f]{64} \(image=berth-e2e/busybox:1, name=` + name + `, tier=front\)$`)
	if !line.MatchString(text[0]) || text[1] != "" {
		t.Fatalf("text form: %q", text[:2])
	}

	// An --until to come ends the command when it comes.
	start := time.Now()
	u.run("events", "--until", time.Now().Add(time.Second).Format(time.RFC3339Nano))
	if d := time.Since(start); d < time.Second {
		t.Fatalf("events --until in 1 s ended after %v", d)
	}
}

// `down -t 0` records what a stop with no grace does, as Docker: kill
// with the stop signal, kill 9, die 137, stop, then destroy; for a shim
// that went idle (berth-idle drops the container and the CLI records
// them) as for one kept awake by its health check (the Go shim drops it).
func TestDownNoGraceEvents(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  idle:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
  awake:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    healthcheck: {test: ["CMD", "true"], interval: 200ms}
`, "-t", "0")
	u.env = append(u.env, "BERTH_SHIM_IDLE=100ms")
	since := time.Now()
	u.run("up", "-d")
	time.Sleep(time.Second) // idle goes idle
	u.run("down", "-t", "0")
	until := time.Now()
	out := u.run("events", "--json", "--since", since.Format(time.RFC3339Nano), "--until", until.Format(time.RFC3339Nano))
	var all []jsonEvent
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev jsonEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		all = append(all, ev)
	}
	for _, service := range []string{"idle", "awake"} {
		var got []string
		for _, ev := range all {
			if ev.Service != service || strings.HasPrefix(ev.Action, "health_status") {
				continue
			}
			a := ev.Action
			switch a {
			case "kill":
				a += " " + ev.Attributes["signal"]
			case "die":
				a += " " + ev.Attributes["exitCode"]
				if ev.Attributes["execDuration"] == "" {
					t.Errorf("%s's die event has no execDuration: %+v", service, ev)
				}
			}
			got = append(got, a)
		}
		want := []string{"create", "start", "kill 15", "kill 9", "die 137", "stop", "destroy"}
		if !slices.Equal(got, want) {
			t.Errorf("%s's events:\n got %q\nwant %q", service, got, want)
		}
	}
}
