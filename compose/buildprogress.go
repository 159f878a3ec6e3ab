package compose

import (
	"fmt"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

func init() { words[reconcile.Build] = [3]string{"Image", "Building", "Built"} }

// build shows one step event of a build: plain, as BuildKit's plain
// progress (`#3 [web] RUN make`, the RUN's output lines, `#3 [web] CACHED`
// or `#3 [web] DONE 0.4s`); on a terminal, one line per step, redrawn,
// showing a running step's last output line.
func (p *progress) build(bp engine.BuildProgress) {
	ev := bp.Event
	head := fmt.Sprintf("#%d [%s] ", ev.Step, bp.Service)
	var line string
	switch {
	case ev.Done && ev.Cached:
		line = "CACHED"
	case ev.Done:
		line = fmt.Sprintf("DONE %.1fs", ev.Duration.Seconds())
	case ev.Line != "":
		line = ev.Line
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case displayJSON:
		status := "Working"
		if ev.Done {
			status = "Done"
		}
		writeJSONEvent(p.w, jsonEvent{ID: strings.TrimSpace(head), ParentID: "Image " + bp.Image, Status: status, Text: first(line, ev.Instruction)})
		return
	case displayTTY:
		it := p.item(fmt.Sprintf("build:%s:%d", bp.Image, ev.Step))
		it.line = head + ev.Instruction
		if line != "" {
			it.line += "  " + line
		}
		it.done = ev.Done
		p.redraw()
		return
	}
	if ev.Done || ev.Line != "" {
		fmt.Fprintln(p.w, head+line)
	} else {
		fmt.Fprintln(p.w, head+ev.Instruction)
	}
}
