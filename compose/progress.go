package compose

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/reconcile"
)

// progress shows the actions of a plan as they run: on a terminal, one
// line per object redrawn in place; otherwise, one plain line per change.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	order  []string
	lines  map[string]string
	drawn  int
	pulled map[string]map[string][2]int64 // image -> layer -> done, total
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, tty: isTerminal(w), lines: map[string]string{}, pulled: map[string]map[string][2]int64{}}
}

// words says, per kind, what an object is called and its verb while running and when done.
var words = map[reconcile.Kind][3]string{
	reconcile.Pull:          {"Image", "Pulling", "Pulled"},
	reconcile.CreateNetwork: {"Network", "Creating", "Created"},
	reconcile.CreateVolume:  {"Volume", "Creating", "Created"},
	reconcile.Create:        {"Container", "Creating", "Started"},
	reconcile.Recreate:      {"Container", "Recreating", "Started"},
	reconcile.Start:         {"Container", "Starting", "Started"},
	reconcile.WaitExit:      {"Container", "Waiting", "Exited"},
	reconcile.RefreshHosts:  {"Hosts", "Updating", "Updated"},
	reconcile.Remove:        {"Container", "Removing", "Removed"},
	reconcile.RemoveNetwork: {"Network", "Removing", "Removed"},
	reconcile.RemoveVolume:  {"Volume", "Removing", "Removed"},
}

// event records an action's status change.
func (p *progress) event(e reconcile.Event) {
	w := words[e.Action.Kind]
	var line string
	switch e.Status {
	case reconcile.Started:
		line = fmt.Sprintf("%s %s  %s", w[0], e.Action.Target, w[1])
	case reconcile.Done:
		line = fmt.Sprintf("%s %s  %s  %.1fs", w[0], e.Action.Target, w[2], e.Elapsed.Seconds())
	case reconcile.Failed:
		line = fmt.Sprintf("%s %s  Error: %v", w[0], e.Action.Target, e.Err)
	case reconcile.Skipped:
		line = fmt.Sprintf("%s %s  Skipped: a dependency failed", w[0], e.Action.Target)
	}
	p.set(e.Action.ID, line)
}

// pull records the progress of one layer of a pull.
func (p *progress) pull(ev image.Progress) {
	p.mu.Lock()
	layers := p.pulled[ev.Ref]
	if layers == nil {
		layers = map[string][2]int64{}
		p.pulled[ev.Ref] = layers
	}
	layers[ev.Layer] = [2]int64{ev.Done, ev.Total}
	var done, total int64
	for _, l := range layers {
		done, total = done+l[0], total+l[1]
	}
	p.mu.Unlock()
	if !p.tty {
		return // plain output reports pulls when they finish
	}
	p.set("pull:"+ev.Ref, fmt.Sprintf("Image %s  Pulling  %s / %s (%d layers)", ev.Ref, bytes(done), bytes(total), len(layers)))
}

func (p *progress) set(id, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	if _, ok := p.lines[id]; !ok {
		p.order = append(p.order, id)
	}
	p.lines[id] = line
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for _, k := range p.order {
		fmt.Fprintf(&b, "\x1b[2K %s\n", p.lines[k])
	}
	p.drawn = len(p.order)
	io.WriteString(p.w, b.String())
}

func bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fkB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// since renders a duration like Docker's status column.
func since(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
