package compose

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/reconcile"
	"github.com/spf13/cobra"
)

// progress shows a plan's actions as they run. On a terminal it keeps one
// line per object, redrawn in place, with a live bar and one line per layer
// under each image being pulled; otherwise it prints one plain line per
// change, and a line per layer once it is fetched.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	mode  display // tty, plain, json or quiet
	tty   bool
	order []string
	items map[string]*item
	drawn int
	now   func() time.Time
}

// item is one object's line, and for a pull, its layers.
type item struct {
	line   string
	start  time.Time
	layers map[string]image.Progress
	done   bool
}

// newProgress shows progress on w as the command line's --progress and
// --ansi choose.
// statusOut is where a command's progress and status lines go: stderr, as
// Docker Compose writes them, so that stdout holds only what was asked
// for; stdout with COMPOSE_STATUS_STDOUT set true.
func statusOut(cmd *cobra.Command) io.Writer {
	if on, _ := strconv.ParseBool(os.Getenv("COMPOSE_STATUS_STDOUT")); on {
		return cmd.OutOrStdout()
	}
	return cmd.ErrOrStderr()
}

func newProgress(w io.Writer) *progress {
	mode := currentDisplay.resolve(w)
	if mode == displayQuiet {
		w = io.Discard
	}
	return &progress{w: w, mode: mode, tty: mode == displayTTY, items: map[string]*item{}, now: time.Now}
}

// words says, per kind, what an object is called and its verb while running and when done.
var words = map[reconcile.Kind][3]string{
	reconcile.Pull:           {"Image", "Pulling", "Pulled"},
	reconcile.Push:           {"Image", "Pushing", "Pushed"},
	reconcile.Stop:           {"Container", "Stopping", "Stopped"},
	reconcile.CreateNetwork:  {"Network", "Creating", "Created"},
	reconcile.CreateVolume:   {"Volume", "Creating", "Created"},
	reconcile.Create:         {"Container", "Creating", "Created"},
	reconcile.Start:          {"Container", "Starting", "Started"},
	reconcile.WaitExit:       {"Container", "Waiting", "Exited"},
	reconcile.WaitHealthy:    {"Container", "Waiting", "Healthy"},
	reconcile.WaitReady:      {"Container", "Waiting", "Healthy"},
	reconcile.RefreshHosts:   {"Hosts", "Updating", "Updated"},
	reconcile.Remove:         {"Container", "Removing", "Removed"},
	reconcile.RemoveNetwork:  {"Network", "Removing", "Removed"},
	reconcile.RemoveVolume:   {"Volume", "Removing", "Removed"},
	reconcile.Kill:           {"Container", "Killing", "Killed"},
	reconcile.Pause:          {"Container", "Pausing", "Paused"},
	reconcile.Unpause:        {"Container", "Unpausing", "Unpaused"},
	reconcile.Restore:        {"Container", "Restoring", "Restored"},
	reconcile.SwitchPorts:    {"Ports of container", "Switching", "Switched"},
	reconcile.Drain:          {"Container", "Draining", "Drained"},
	reconcile.RecordContents: {"Contents of container", "Recording", "Recorded"},
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
	case reconcile.Kept:
		line = fmt.Sprintf("%s %s  Kept: %v", w[0], e.Action.Target, e.Err)
	case reconcile.Skipped:
		line = fmt.Sprintf("%s %s  Skipped: %s", w[0], e.Action.Target, skipReason(e))
	}
	if currentDryRun {
		line = dryRunPrefix + line
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == displayJSON {
		je := jsonEvent{DryRun: currentDryRun, ID: w[0] + " " + e.Action.Target, Status: "Working", Text: w[1]}
		switch e.Status {
		case reconcile.Done:
			je.Status, je.Text = "Done", w[2]
		case reconcile.Failed:
			je.Status, je.Text, je.Details = "Error", "Error", fmt.Sprint(e.Err)
		case reconcile.Kept, reconcile.Skipped:
			je.Status, je.Text, je.Details = "Warning", string(e.Status), fmt.Sprint(e.Err)
		}
		writeJSONEvent(p.w, je)
		return
	}
	it := p.item(itemID(e.Action))
	it.line = line
	it.done = e.Status != reconcile.Started
	p.show(it.line)
}

// itemID is the line an action updates: one per container, whichever of
// its steps runs (a recreate's stop, remove, create and start), one per
// other action.
func itemID(a reconcile.Action) string {
	switch a.Kind {
	case reconcile.Stop, reconcile.Remove, reconcile.Create, reconcile.Start, reconcile.Restore:
		return "container:" + a.Target
	}
	return a.ID
}

// pull records the progress of one layer of an image pull.
func (p *progress) pull(ev image.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	it := p.item("pull:" + ev.Ref)
	if it.layers == nil {
		it.layers = map[string]image.Progress{}
	}
	before := it.layers[ev.Layer].State
	it.layers[ev.Layer] = ev
	if p.mode == displayJSON {
		if ev.State != before {
			je := jsonEvent{ID: shortDigest(ev.Layer), ParentID: "Image " + ev.Ref, Status: "Working", Text: ev.State, Current: ev.Done, Total: ev.Total}
			if ev.Total > 0 {
				je.Percent = int(ev.Done * 100 / ev.Total)
			}
			if ev.State == "done" || ev.State == "exists" {
				je.Status = "Done"
			}
			writeJSONEvent(p.w, je)
		}
		return
	}
	if !p.tty {
		if ev.State != before && (ev.State == "done" || ev.State == "exists") {
			fmt.Fprintf(p.w, "Image %s  layer %s  %s %s\n", ev.Ref, shortDigest(ev.Layer), ev.State, humanBytes(ev.Total))
		}
		return
	}
	p.redraw()
}

func (p *progress) item(id string) *item {
	it, ok := p.items[id]
	if !ok {
		it = &item{start: p.now()}
		p.items[id] = it
		p.order = append(p.order, id)
	}
	return it
}

// set shows a free-form status line for id.
func (p *progress) set(id, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == displayJSON {
		writeJSONEvent(p.w, jsonEvent{ID: id, Status: "Working", Text: line})
		return
	}
	p.item(id).line = line
	p.show(line)
}

// show prints line when plain, or redraws everything on a terminal.
func (p *progress) show(line string) {
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	p.redraw()
}

func (p *progress) redraw() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	n := 0
	for _, id := range p.order {
		it := p.items[id]
		line := it.line
		if it.layers != nil && !it.done {
			line = p.pullLine(id, it)
		}
		fmt.Fprintf(&b, "\x1b[2K %s\n", line)
		n++
		if it.done {
			continue
		}
		for _, l := range sortedLayers(it.layers) {
			fmt.Fprintf(&b, "\x1b[2K   %s %-11s %s\n", shortDigest(l.Layer), l.State, bar(l.Done, l.Total, 20))
			n++
		}
	}
	// Clear lines left from a taller earlier frame.
	for i := n; i < p.drawn; i++ {
		b.WriteString("\x1b[2K\n")
	}
	if p.drawn > n {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn-n)
	}
	p.drawn = max(n, 0)
	io.WriteString(p.w, b.String())
}

// pullLine is an image's summary while it is pulled: a bar over all its
// layers, bytes, speed and how many layers are finished.
func (p *progress) pullLine(id string, it *item) string {
	var done, total int64
	finished := 0
	for _, l := range it.layers {
		done, total = done+l.Done, total+l.Total
		if l.State == "done" || l.State == "exists" {
			finished++
		}
	}
	speed := float64(done) / max(p.now().Sub(it.start).Seconds(), 0.001)
	return fmt.Sprintf("Image %s  Pulling %s %s / %s  %s/s  %d/%d layers", strings.TrimPrefix(id, "pull:"),
		bar(done, total, 30), humanBytes(done), humanBytes(total), humanBytes(int64(speed)), finished, len(it.layers))
}

func sortedLayers(m map[string]image.Progress) []image.Progress {
	out := make([]image.Progress, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Layer < out[j].Layer })
	return out
}

// bar draws [=====>    ] for done of total in width cells.
func bar(done, total int64, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat(" ", width) + "]"
	}
	fill := int(float64(width) * float64(min(done, total)) / float64(total))
	head := ""
	if fill < width {
		head = ">"
	}
	return "[" + strings.Repeat("=", fill) + head + strings.Repeat(" ", max(width-fill-len(head), 0)) + "]"
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func humanBytes(n int64) string {
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

// skipReason is why an action was skipped: a dependency failed, or it
// was an optional dependency's wait that failed (a warning).
func skipReason(e reconcile.Event) string {
	if e.Err == nil || errors.Is(e.Err, reconcile.ErrDependency) {
		return "a dependency failed"
	}
	return e.Err.Error()
}
