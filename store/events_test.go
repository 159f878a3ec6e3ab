package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func putWeb(t *testing.T, s *Store) {
	t.Helper()
	if err := s.PutContainer(context.Background(), Container{ID: NewID(), Name: "p-web-1", Project: "p", Service: "web", Number: 1,
		ImageRef: "busybox", Spec: []byte("{}"), Labels: map[string]string{"com.docker.compose.service": "web", "tier": "front"}}); err != nil {
		t.Fatal(err)
	}
}

// An event carries its container's labels, image and name, with the
// action's own attributes over them, and is listed by project and time.
func TestEventRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	putWeb(t, s)
	t0 := time.Unix(1700000000, 0)
	if err := s.AddEvent(ctx, "p-web-1", "start", nil, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvent(ctx, "p-web-1", "die", map[string]string{"exitCode": "3", "name": "kept"}, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvent(ctx, "nobody", "start", nil, t0); err == nil {
		t.Fatal("an event of a container not recorded")
	}
	evs, err := s.Events(ctx, EventsQuery{Project: "p"})
	if err != nil || len(evs) != 2 {
		t.Fatalf("events: %+v %v", evs, err)
	}
	die := evs[1]
	if die.Action != "die" || die.Service != "web" || len(die.ID) != 64 || !die.Time.Equal(t0.Add(time.Second)) ||
		fmt.Sprint(die.Attributes) != "map[com.docker.compose.service:web exitCode:3 image:busybox name:kept tier:front]" {
		t.Fatalf("die event: %+v", die)
	}
	if evs, _ := s.Events(ctx, EventsQuery{Project: "other"}); len(evs) != 0 {
		t.Fatalf("another project's events: %+v", evs)
	}
	if evs, _ := s.Events(ctx, EventsQuery{Since: t0.Add(time.Second)}); len(evs) != 1 || evs[0].Action != "die" {
		t.Fatalf("since: %+v", evs)
	}
	if evs, _ := s.Events(ctx, EventsQuery{Until: t0}); len(evs) != 1 || evs[0].Action != "start" {
		t.Fatalf("until: %+v", evs)
	}
	if evs, _ := s.Events(ctx, EventsQuery{After: evs[0].Seq}); len(evs) != 1 || evs[0].Action != "die" {
		t.Fatalf("after: %+v", evs)
	}
	if last, err := s.LastEvent(ctx); err != nil || last != die.Seq {
		t.Fatalf("last event %d %v, want %d", last, err, die.Seq)
	}
}

// The table keeps the newest maxEvents events.
func TestEventsBounded(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	putWeb(t, s)
	defer func(n int) { maxEvents = n }(maxEvents)
	maxEvents = 5
	for i := range 12 {
		if err := s.AddEvent(ctx, "p-web-1", fmt.Sprint("a", i), nil, time.Unix(int64(i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events(ctx, EventsQuery{})
	if err != nil || len(evs) != 5 || evs[0].Action != "a7" || evs[4].Action != "a11" {
		t.Fatalf("kept %d events (%v): %+v", len(evs), err, evs)
	}
}

// A follower wakes when another process's store records an event.
func TestWatchEventsWakes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := t.TempDir()
	s := open(t, root)
	putWeb(t, s)
	wake := s.WatchEvents(ctx)
	other := open(t, root) // as another berth process
	start := time.Now()
	if err := other.AddEvent(ctx, "p-web-1", "start", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
	case <-time.After(slowPoll / 2):
		t.Fatal("no wake-up before the slow poll")
	}
	t.Logf("woken after %v", time.Since(start))
}

// A schema 4 database gains the events table.
func TestMigrationAddsEvents(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := open(t, root)
	putWeb(t, s)
	if _, err := s.db.Exec(`PRAGMA user_version = 4; DROP TABLE events`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := open(t, root)
	if err := s2.AddEvent(ctx, "p-web-1", "create", nil, time.Now()); err != nil {
		t.Fatalf("events table after migration: %v", err)
	}
	if c, err := s2.Container(ctx, "p-web-1"); err != nil || c.Labels["tier"] != "front" {
		t.Fatalf("container after migration: %+v %v", c, err)
	}
}

// A project event has no container; it is listed with the project's
// container events, typed, its type not among its attributes.
func TestProjectEvent(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	putWeb(t, s)
	t0 := time.Unix(1700000000, 0)
	if err := s.AddEvent(ctx, "p-web-1", "start", nil, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddProjectEvent(ctx, "p", "reconcile", "applied", map[string]string{"commit": "abc"}, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, EventsQuery{Project: "p"})
	if err != nil || len(evs) != 2 {
		t.Fatalf("events: %+v %v", evs, err)
	}
	if evs[0].Type != "container" {
		t.Errorf("container event typed %q", evs[0].Type)
	}
	pass := evs[1]
	if pass.Type != "reconcile" || pass.Action != "applied" || pass.Name != "" || pass.ID != "" || pass.Project != "p" ||
		fmt.Sprint(pass.Attributes) != "map[commit:abc]" {
		t.Errorf("project event: %+v", pass)
	}
}

// Created sets the hash and records the "create" event in one
// transaction; Destroyed records "destroy" while the record still tells
// the labels, then deletes the record and its endpoints. Neither needs the
// event to be recordable: a missing container's hash update is a no-op.
func TestCreatedAndDestroyedRecordTheirEvents(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	putWeb(t, s)
	t0 := time.Unix(1700000000, 0)
	if err := s.Created(ctx, "p-web-1", "h1", t0); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Container(ctx, "p-web-1"); err != nil || c.ConfigHash != "h1" {
		t.Fatalf("hash after Created: %+v %v", c, err)
	}
	if _, err := s.AllocateNetwork(ctx, Network{Name: "p_default", Project: "p", Key: "default", Bridge: "br"}, func([]string) (Addressing, error) {
		return Addressing{Subnet: "10.0.0.0/24", Gateway: "10.0.0.1"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AllocateEndpoint(ctx, "p-web-1", "p_default", "default", func([]string) (string, error) { return "10.0.0.2", nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Destroyed(ctx, "p-web-1", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Container(ctx, "p-web-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("record after Destroyed: %v", err)
	}
	if eps, err := s.Endpoints(ctx); err != nil || len(eps) != 0 {
		t.Fatalf("endpoints after Destroyed: %+v %v", eps, err)
	}
	evs, err := s.Events(ctx, EventsQuery{Project: "p"})
	if err != nil || len(evs) != 2 || evs[0].Action != "create" || evs[1].Action != "destroy" ||
		evs[1].Attributes["tier"] != "front" || !evs[1].Time.Equal(t0.Add(time.Second)) {
		t.Fatalf("events: %+v %v", evs, err)
	}
	if err := s.Created(ctx, "nobody", "h", t0); err != nil {
		t.Fatalf("Created of a container not recorded: %v", err)
	}
	if err := s.Destroyed(ctx, "nobody", t0); err != nil {
		t.Fatalf("Destroyed of a container not recorded: %v", err)
	}
}

// PutContainer's claims allocate the container's addresses with its
// record, in one transaction: a claim that fails leaves neither.
func TestPutContainerClaimsItsAddresses(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	if _, err := s.AllocateNetwork(ctx, Network{Name: "p_default", Project: "p", Key: "default", Bridge: "br"}, func([]string) (Addressing, error) {
		return Addressing{Subnet: "10.0.0.0/24", Gateway: "10.0.0.1"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	next := func(used []string) (string, error) { return fmt.Sprintf("10.0.0.%d", len(used)+2), nil }
	c := Container{ID: NewID(), Name: "p-web-1", Project: "p", Service: "web", Number: 1, Spec: []byte("{}")}
	if err := s.PutContainer(ctx, c, EndpointClaim{Network: "p_default", Key: "default", Pick: next}); err != nil {
		t.Fatal(err)
	}
	if addr, err := s.AllocateEndpoint(ctx, "p-web-1", "p_default", "default", next); err != nil || addr != "10.0.0.2" {
		t.Fatalf("address recorded with the container: %q %v", addr, err)
	}
	full := func([]string) (string, error) { return "", errors.New("no free address") }
	c2 := Container{ID: NewID(), Name: "p-web-2", Project: "p", Service: "web", Number: 2, Spec: []byte("{}")}
	if err := s.PutContainer(ctx, c2, EndpointClaim{Network: "p_default", Key: "default", Pick: full}); err == nil {
		t.Fatal("a claim that fails did not fail PutContainer")
	}
	if _, err := s.Container(ctx, "p-web-2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("record of a failed PutContainer: %v", err)
	}
	if eps, _ := s.Endpoints(ctx); len(eps) != 1 {
		t.Fatalf("endpoints: %+v", eps)
	}
}
