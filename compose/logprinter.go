package compose

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/lifecycle"
)

// colors are the ANSI colours of service prefixes, as Docker Compose cycles them.
var colors = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

// relistEvery is how often a followed project's containers are listed
// again, to pick up restarted, recreated and new containers.
const relistEvery = time.Second

// followGrace is how long logs -f keeps watching after every container it
// followed has stopped, for one that is being recreated to come back.
const followGrace = 5 * time.Second

// logsPrinter writes containers' log lines as Docker Compose's log
// consumer does: stdout lines to out, stderr lines to errOut, each after
// a "<service>-<n> | " prefix padded to the widest, coloured when color.
type logsPrinter struct {
	out, errOut               io.Writer
	color, prefix, timestamps bool

	mu     sync.Mutex
	width  int
	colour map[string]string // a prefix's colour, in order of first sight
	last   map[string]time.Time
}

func newLogsPrinter(out, errOut io.Writer, color, prefix, timestamps bool) *logsPrinter {
	return &logsPrinter{out: out, errOut: errOut, color: color, prefix: prefix, timestamps: timestamps,
		colour: map[string]string{}, last: map[string]time.Time{}}
}

// widen makes room in the prefix for the containers' names.
func (p *logsPrinter) widen(recs []engine.ContainerView) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range recs {
		p.width = max(p.width, len(prefixName(c)))
	}
}

// print writes one line of container c.
func (p *logsPrinter) print(c engine.ContainerView, l engine.LogLine) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last[c.Name] = l.Time
	var b strings.Builder
	if p.prefix {
		name := prefixName(c)
		pre := fmt.Sprintf("%-*s | ", p.width, name)
		if p.color {
			col, ok := p.colour[name]
			if !ok {
				col = colors[len(p.colour)%len(colors)]
				p.colour[name] = col
			}
			pre = "\x1b[" + col + "m" + pre + "\x1b[0m"
		}
		b.WriteString(pre)
	}
	if p.timestamps {
		b.WriteString(l.Time.Format(time.RFC3339Nano) + " ")
	}
	b.WriteString(strings.TrimSuffix(l.Text, "\n"))
	b.WriteByte('\n')
	w := p.out
	if l.Stream == "stderr" {
		w = p.errOut
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// dump writes the selected lines of each container, one after the other.
func (p *logsPrinter) dump(ctx context.Context, e *engine.Engine, recs []engine.ContainerView, o engine.LogOptions) error {
	p.widen(recs)
	for _, c := range recs {
		if err := e.Logs(ctx, c.Name, o, func(l engine.LogLine) error { return p.print(c, l) }); err != nil {
			return fmt.Errorf("reading logs of %s: %w", c.Name, err)
		}
	}
	return nil
}

// follow follows the containers' logs at once. It lists the containers
// again every relistEvery and follows anew each one that has
// (re)started since its follower ended, or appeared, from the line after
// the last it printed of that name; it ends when no follower is left and
// no container has come back for followGrace, or at o.Until.
// (Attached up prints through attach.go's logPrinter.)
func (p *logsPrinter) follow(ctx context.Context, e *engine.Engine, recs []engine.ContainerView, o engine.LogOptions, list func(context.Context, bool) ([]engine.ContainerView, error)) error {
	if !o.Until.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, o.Until)
		defer cancel()
	}
	p.widen(recs)
	f := &followers{p: p, e: e, active: map[string]bool{}, done: make(chan followEnd, 16)}
	for _, c := range recs {
		if c.State != lifecycle.Created { // one never started has no log yet
			f.start(ctx, c, o)
		}
	}
	grace := time.Duration(0) // none ran: end with their lines, as Compose
	if slices.ContainsFunc(recs, func(c engine.ContainerView) bool { return c.State.Active() }) {
		grace = followGrace
	}
	tick := time.NewTicker(relistEvery)
	defer tick.Stop()
	idleSince := time.Now()
	for {
		if len(f.active) == 0 && time.Since(idleSince) >= grace {
			return nil
		}
		select {
		case <-ctx.Done():
			f.waitAll(ctx)
			return nil
		case end := <-f.done:
			if err := f.ended(ctx, end); err != nil {
				f.waitAll(ctx)
				return err
			}
			if len(f.active) == 0 {
				idleSince = time.Now()
			}
			continue
		case <-tick.C:
		}
		recs, err := list(ctx, true)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			f.waitAll(ctx)
			return fmt.Errorf("listing containers to follow: %w", err)
		}
		p.widen(recs)
		for _, c := range recs {
			if f.active[c.Name] || !c.State.Active() {
				continue
			}
			again := o
			again.Tail = -1
			if last, ok := p.lastLine(c.Name); ok {
				again.Since = last.Add(time.Nanosecond)
			}
			f.start(ctx, c, again)
		}
	}
}

// lastLine is the time of the last line printed of container name.
func (p *logsPrinter) lastLine(name string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.last[name]
	return t, ok
}

// followers are the running followers of one logs -f, by container name.
type followers struct {
	p      *logsPrinter
	e      *engine.Engine
	active map[string]bool
	done   chan followEnd
}

// followEnd is how one follower ended.
type followEnd struct {
	name string
	err  error
}

func (f *followers) start(ctx context.Context, c engine.ContainerView, o engine.LogOptions) {
	f.active[c.Name] = true
	go func() {
		err := f.e.Logs(ctx, c.Name, o, func(l engine.LogLine) error { return f.p.print(c, l) })
		f.done <- followEnd{c.Name, err}
	}()
}

// ended records a follower's end; its error, unless ctx ended.
func (f *followers) ended(ctx context.Context, end followEnd) error {
	delete(f.active, end.name)
	if end.err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading logs of %s: %w", end.name, end.err)
	}
	return nil
}

// waitAll waits for every follower to end; the first error.
func (f *followers) waitAll(ctx context.Context) error {
	var first error
	for len(f.active) > 0 {
		if err := f.ended(ctx, <-f.done); err != nil && first == nil {
			first = err
		}
	}
	return first
}
