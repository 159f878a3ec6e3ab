package reconcile

import (
	"fmt"
	"slices"
	"sort"

	"github.com/berth-dev/berth/spec"
)

// slot is one wanted container of a service: the existing container that
// fills it (ok), or the number a new one takes.
type slot struct {
	number int
	old    Container
	ok     bool
}

// slots binds a service's existing containers to its scale, as Docker
// Compose does, whatever their numbers: up-to-date running containers
// are kept first, then the lowest numbers; the others are extra (scaled
// down). A missing container takes the lowest number no existing
// container holds. So a start-first rollout, whose new container takes
// another number than the one it replaces, leaves a set of containers
// the next plan keeps as they are. The slots are in number order.
func slots(existing []Container, scale int, hash string) (keep []slot, extra []Container) {
	ranked := slices.Clone(existing)
	current := func(c Container) bool { return c.Hash == hash && c.State.Active() && c.Drift == "" }
	sort.SliceStable(ranked, func(i, j int) bool {
		if current(ranked[i]) != current(ranked[j]) {
			return current(ranked[i])
		}
		return ranked[i].Number < ranked[j].Number
	})
	held := map[int]bool{}
	for _, c := range existing {
		held[c.Number] = true
	}
	for i, c := range ranked {
		if i < scale {
			keep = append(keep, slot{number: c.Number, old: c, ok: true})
		} else {
			extra = append(extra, c)
		}
	}
	for n := 1; len(keep) < scale; n++ {
		if !held[n] {
			keep = append(keep, slot{number: n})
			held[n] = true
		}
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].number < keep[j].number })
	sort.Slice(extra, func(i, j int) bool { return extra[i].Number < extra[j].Number })
	return keep, extra
}

// freeNumber is the lowest container number of a service that none of
// held takes.
func freeNumber(held map[int]bool) int {
	n := 1
	for held[n] {
		n++
	}
	return n
}

// startFirst plans the recreates of ds whose service is updated
// start-first and whose old container runs (deploy.update_config.order):
// the successor takes a free number, is created, started and waited for
// (running, healthy when it has a health check), takes the published
// ports over from the old container in one step (SwitchPorts), and only
// then is the old one stopped and removed. A successor that does not get
// ready is removed again (failure_action rollback) and the old one keeps
// running. Containers are replaced parallelism at a time (0: all), a
// batch after the previous one is done and the delay has passed. It
// returns the decisions left for planDecisions. existing are the
// service's containers, whose numbers the new ones do not take.
func (pl *planner) startFirst(ds []decision, existing []Container, o Options) []decision {
	var rest, rolling []decision
	for _, d := range ds {
		if d.change == recreate && d.svc.StartFirst() && d.old.State.Active() && !o.NoStart && !o.RenewAnonVolumes {
			rolling = append(rolling, d)
		} else {
			rest = append(rest, d)
		}
	}
	if len(rolling) == 0 {
		return rest
	}
	held := map[int]bool{}
	for _, c := range existing {
		held[c.Number] = true
	}
	for _, d := range ds {
		held[d.spec.Number] = true
	}
	u := rolling[0].svc.Update
	size := u.Parallelism
	if size <= 0 {
		size = len(rolling)
	}
	var gate []string // what the next batch waits for
	for b := 0; b*size < len(rolling); b++ {
		batch := rolling[b*size : min((b+1)*size, len(rolling))]
		if b > 0 && u.Delay > 0 {
			id := fmt.Sprintf("delay:%s:%d", batch[0].svc.Name, b)
			pl.add(Action{ID: id, Kind: Delay, Target: batch[0].svc.Name, Service: batch[0].svc.Name, After: gate, Timeout: u.Delay,
				Reason: fmt.Sprintf("update_config.delay %s between batches", u.Delay)})
			gate = []string{id}
		}
		var done []string
		for _, d := range batch {
			n := freeNumber(held)
			held[n] = true
			done = append(done, pl.replace(d, n, gate, o))
		}
		gate = done
	}
	return rest
}

// replace plans the start-first replacement of d's old container by a new
// one numbered n, after the actions gate; it returns the ID of the old
// container's removal, the end of the replacement.
func (pl *planner) replace(d decision, n int, gate []string, o Options) string {
	svc, old := d.svc.Name, d.old.Name
	cs := *d.spec
	cs.Name, cs.Number = d.svc.Container(pl.plan.Project, n), n
	cs.Standby = publishes(d.svc)
	nd := d
	nd.spec = &cs
	nd.reason = fmt.Sprintf("start-first replacement of %s: %s", old, d.reason)
	pl.create(nd, gate, o)
	create := &pl.plan.Actions[pl.byID["create:"+cs.Name]]
	create.Replaces = old
	ready := Action{ID: "ready:" + cs.Name, Kind: WaitReady, Target: cs.Name, Service: svc, After: []string{"start:" + cs.Name}, Timeout: o.WaitTimeout,
		Reason: fmt.Sprintf("start-first: %s takes over from %s once running, and healthy when it has a health check", cs.Name, old)}
	pl.add(ready)
	last := ready.ID
	if cs.Standby {
		sw := Action{ID: "switch:" + cs.Name, Kind: SwitchPorts, Target: cs.Name, Service: svc, Replaces: old, After: []string{ready.ID}, Container: &cs,
			Reason: "start-first: in one nftables transaction, the published ports lead to the new container instead of the old one"}
		pl.add(sw)
		last = sw.ID
		pl.add(Action{ID: "hosts:" + sw.ID, Kind: RefreshHosts, Target: pl.plan.Project, After: []string{sw.ID},
			Reason: fmt.Sprintf("start-first: the names of service %s lead to %s now", svc, cs.Name)})
	}
	// New connections go to the new container now; those the old one
	// serves end first, within its stop grace period.
	if grace := stopTimeout(d.svc, o); cs.Standby && grace > 0 {
		drain := Action{ID: "drain:" + old, Kind: Drain, Target: old, Service: svc, After: []string{last}, Timeout: grace,
			Reason: fmt.Sprintf("start-first: the connections %s still serves end first, within its stop grace period (%s)", old, grace)}
		pl.add(drain)
		last = drain.ID
	}
	// The removal stops it (its stop signal, then SIGKILL after its grace
	// period): one step less between the switch and the end.
	rm := Action{ID: "remove:" + old, Kind: Remove, Target: old, Service: svc, After: []string{last}, Timeout: stopTimeout(d.svc, o), Successor: cs.Name,
		Reason: fmt.Sprintf("start-first: replaced by %s", cs.Name)}
	back := Action{ID: "remove:" + cs.Name, Kind: Remove, Target: cs.Name, Service: svc, After: []string{ready.ID}, OnFailure: true, Timeout: stopTimeout(d.svc, o),
		Reason: fmt.Sprintf("failure_action rollback: only if %s does not get ready; %s keeps running", cs.Name, old)}
	pl.add(rm)
	pl.add(back)
	return rm.ID
}

// publishes reports whether svc's containers publish ports of their own.
func publishes(svc spec.Service) bool { return len(svc.Ports) > 0 && svc.NetworkMode == "" }

// sortOrder is where a plan lists a: by kind, except that a start-first
// replacement lists, after the wait for the new container, the switch of
// the ports, the drain of the old container's connections, then its stop
// and removal, then the rollback, as they run.
func sortOrder(a Action) int {
	at := 8 * kindOrder[WaitReady]
	switch {
	case a.Kind == SwitchPorts:
		return at + 1
	case a.Kind == Drain:
		return at + 2
	case a.Successor != "":
		return at + 3 // the old container's removal
	case a.OnFailure:
		return at + 4
	}
	return 8 * kindOrder[a.Kind]
}
