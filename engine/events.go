package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/store"
)

// ContainerEvent is one event of a container, as Docker's daemon reports
// it: create, start, die, kill, stop, pause, unpause, restart, oom, update,
// "health_status: <status>", destroy.
//
// A project's own events (Type "reconcile": a reconcile pass) come in the
// same stream, without ID and Service.
type ContainerEvent struct {
	Type    string // "container", or a project event's type
	Time    time.Time
	Action  string
	ID      string // the container's ID
	Service string
	// Attributes are the container's labels (com.docker.compose.* among
	// them), "image", "name" and the action's own: "exitCode" and
	// "execDuration" of a die, "signal" of a kill.
	Attributes map[string]string
}

// EventsOptions select the events Events delivers.
type EventsOptions struct {
	Project string    // only this project's containers' events
	Since   time.Time // zero: only events from now on; else the recorded ones from then too
	Until   time.Time // zero: follow until ctx is done; else end there
}

// Events delivers the project's container events to fn, oldest first:
// the recorded ones from Since, then new ones as any berth process or
// container shim records them, until Until (at once when it is past) or
// until ctx is done. An error from fn ends it.
func (e *Engine) Events(ctx context.Context, o EventsOptions, fn func(ContainerEvent) error) error {
	if !o.Until.IsZero() && o.Until.Before(o.Since) {
		return fmt.Errorf("`since` time (%s) cannot be after `until` time (%s)", o.Since.Format(time.RFC3339Nano), o.Until.Format(time.RFC3339Nano))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wake := e.store.WatchEvents(ctx) // before reading: nothing recorded after goes unseen
	last, err := e.store.LastEvent(ctx)
	if err != nil {
		return err
	}
	// deliver delivers the events q selects, up to Seq upTo when not 0.
	deliver := func(q store.EventsQuery, upTo int64) error {
		evs, err := e.store.Events(ctx, q)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if upTo > 0 && ev.Seq > upTo {
				break
			}
			last = max(last, ev.Seq)
			if err := fn(ContainerEvent{Type: ev.Type, Time: ev.Time, Action: ev.Action, ID: ev.ID, Service: ev.Service, Attributes: ev.Attributes}); err != nil {
				return err
			}
		}
		return nil
	}
	q := store.EventsQuery{Project: o.Project, Since: o.Since, Until: o.Until}
	if (!o.Since.IsZero() || !o.Until.IsZero()) && last > 0 {
		// As Docker's daemon: the recorded events first, when asked for a time range.
		if err := deliver(q, last); err != nil {
			return err
		}
	}
	var end <-chan time.Time
	if !o.Until.IsZero() {
		if !o.Until.After(time.Now()) {
			return nil
		}
		t := time.NewTimer(time.Until(o.Until))
		defer t.Stop()
		end = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-end:
			// Events recorded up to Until, before the timer fired, are still due.
			q.After = last
			return deliver(q, 0)
		case <-wake:
		}
		q.After = last
		if err := deliver(q, 0); err != nil {
			return err
		}
	}
}

// event records action of container name, best effort: an event that
// cannot be recorded never fails what happened.
func (e *Engine) event(ctx context.Context, name, action string) {
	_ = e.store.AddEvent(context.WithoutCancel(ctx), name, action, nil, time.Now())
}

// ProjectEvent records an event of project as a whole, best effort as
// every event: typ is its type ("reconcile"), attrs its attributes.
func (e *Engine) ProjectEvent(ctx context.Context, project, typ, action string, attrs map[string]string) {
	_ = e.store.AddProjectEvent(context.WithoutCancel(ctx), project, typ, action, attrs, time.Now())
}

// Restarting is e as the containers driver of `restart`: each start it
// carries out ends a restart, which Docker reports with a "restart" event
// after the container's start.
func (e *Engine) Restarting() reconcile.Containers { return restarting{e} }

type restarting struct{ *Engine }

func (r restarting) Start(ctx context.Context, name string) error {
	if err := r.Engine.Start(ctx, name); err != nil {
		return err
	}
	r.event(ctx, name, "restart")
	return nil
}
