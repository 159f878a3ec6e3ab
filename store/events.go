package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"time"
)

// MaxEvents is how many events the store keeps: recording one more drops
// the oldest, in the same transaction.
const MaxEvents = 10000

// maxEvents is MaxEvents, smaller in tests.
var maxEvents = MaxEvents

// eventsWakeFile is the file, beside the database, that is touched after
// each recorded event so that followers wake (see WatchEvents).
const eventsWakeFile = "events.wake"

// Event is one recorded event: of a container, as Docker's daemon reports
// it, or of a project as a whole (a reconcile pass).
type Event struct {
	Seq     int64  // increasing with every event recorded
	Type    string // "container", or a project event's type ("reconcile")
	Time    time.Time
	Action  string // "create", "start", "die", "health_status: healthy", ...
	ID      string // the container's ID
	Name    string // the container's name
	Project string
	Service string
	// Attributes are the container's labels, "image", "name" and the
	// action's own ("exitCode", "signal", ...), as Docker's.
	Attributes map[string]string
}

// AddEvent records action of container name at time at, with the
// container's labels, image and name as attributes and attrs over them.
// The container must be recorded. The oldest events beyond MaxEvents go.
func (s *Store) AddEvent(ctx context.Context, name, action string, attrs map[string]string, at time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error { return s.addEvent(tx, name, action, attrs, at) })
	if err != nil {
		return fmt.Errorf("recording event %q of %q: %w", action, name, err)
	}
	s.touchWake()
	return nil
}

// AddEvents records events of container name as AddEvent does, in one
// transaction, in order; each event's Time, Action and Attributes are
// taken.
func (s *Store) AddEvents(ctx context.Context, name string, evs []Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, ev := range evs {
			if err := s.addEvent(tx, name, ev.Action, ev.Attributes, ev.Time); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording events of %q: %w", name, err)
	}
	s.touchWake()
	return nil
}

// addEvent records, in tx, event action of container name, with its
// recorded labels, image and name beside attrs.
func (s *Store) addEvent(tx *sql.Tx, name, action string, attrs map[string]string, at time.Time) error {
	var id, project, service, image, labels string
	err := s.txQueryRow(tx, eventOwnerQuery, name).Scan(&id, &project, &service, &image, &labels)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("container %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return err
	}
	all := map[string]string{}
	if err := json.Unmarshal([]byte(labels), &all); err != nil {
		return fmt.Errorf("labels of %q: %w", name, err)
	}
	all["image"], all["name"] = image, name
	maps.Copy(all, attrs)
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	return s.insertEvent(tx, Event{Time: at, Action: action, ID: id, Name: name, Project: project, Service: service}, string(b))
}

// AddProjectEvent records an event of project as a whole, of type typ
// ("reconcile"), with attrs. It has no container: its ID, Name and Service
// are empty, and its type is kept among the stored attributes.
func (s *Store) AddProjectEvent(ctx context.Context, project, typ, action string, attrs map[string]string, at time.Time) error {
	all := map[string]string{typeAttribute: typ}
	maps.Copy(all, attrs)
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		return s.insertEvent(tx, Event{Time: at, Action: action, Project: project}, string(b))
	})
	if err != nil {
		return fmt.Errorf("recording event %q of project %q: %w", action, project, err)
	}
	s.touchWake()
	return nil
}

// insertEvent records e with its attributes' JSON, and drops the oldest
// events beyond MaxEvents.
func (s *Store) insertEvent(tx *sql.Tx, e Event, attrs string) error {
	res, err := s.txExec(tx, insertEventQuery, e.Time.UnixNano(), e.Action, e.ID, e.Name, e.Project, e.Service, attrs)
	if err != nil {
		return err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return err
	}
	_, err = s.txExec(tx, trimEventsQuery, seq-int64(maxEvents))
	return err
}

// The queries of an event's recording, prepared when the CLI's store
// opens (txQueries): every container's creation records one.
const (
	eventOwnerQuery  = `SELECT id, project, service, image_ref, labels FROM containers WHERE name = ?`
	insertEventQuery = `INSERT INTO events (time, action, id, name, project, service, attributes) VALUES (?, ?, ?, ?, ?, ?, ?)`
	trimEventsQuery  = `DELETE FROM events WHERE seq <= ?`
)

// typeAttribute holds a project event's type among its stored attributes.
const typeAttribute = "\x00type"

// touchWake wakes the followers: closing a file opened for writing is an
// inotify IN_CLOSE_WRITE, with nothing written.
func (s *Store) touchWake() {
	if f, err := os.OpenFile(s.wake, os.O_WRONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
}

// EventsQuery selects recorded events.
type EventsQuery struct {
	After   int64  // only events with a greater Seq
	Project string // "" for every project's
	Since   time.Time
	Until   time.Time // zero: no end
}

// Events lists the recorded events the query selects, oldest first.
func (s *Store) Events(ctx context.Context, q EventsQuery) ([]Event, error) {
	until := int64(1<<63 - 1)
	if !q.Until.IsZero() {
		until = q.Until.UnixNano()
	}
	var since int64
	if !q.Since.IsZero() {
		since = q.Since.UnixNano()
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, time, action, id, name, project, service, attributes FROM events
		WHERE seq > ? AND (? = '' OR project = ?) AND time >= ? AND time <= ? ORDER BY seq`, q.After, q.Project, q.Project, since, until)
	if err != nil {
		return nil, fmt.Errorf("listing events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var attrs string
		if err := rows.Scan(&e.Seq, &at, &e.Action, &e.ID, &e.Name, &e.Project, &e.Service, &attrs); err != nil {
			return nil, fmt.Errorf("listing events: %w", err)
		}
		e.Time = time.Unix(0, at)
		if err := json.Unmarshal([]byte(attrs), &e.Attributes); err != nil {
			return nil, fmt.Errorf("attributes of event %d: %w", e.Seq, err)
		}
		e.Type = "container"
		if typ, ok := e.Attributes[typeAttribute]; ok && e.Name == "" {
			e.Type = typ
			delete(e.Attributes, typeAttribute)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastEvent is the Seq of the newest recorded event, 0 with none.
func (s *Store) LastEvent(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(seq) FROM events`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("reading the last event: %w", err)
	}
	return seq.Int64, nil
}
