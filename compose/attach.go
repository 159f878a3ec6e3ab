package compose

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

// cascade is what attached up does when a container exits, as Docker
// Compose's --abort-on-container-exit and --abort-on-container-failure.
type cascade int

const (
	cascadeIgnore cascade = iota // keep following the others
	cascadeStop                  // stop everything at the first exit
	cascadeFail                  // stop everything at the first non-zero exit
)

// attachOptions say how attached up follows its containers: whose logs it
// shows and how, and what ends it.
type attachOptions struct {
	services     []string // the services up brought up, which an abort stops; empty: all
	monitor      []string // the services whose exits are watched: up waits for them all to exit
	show         []string // the services whose logs are shown
	onExit       cascade
	exitCodeFrom string // the service whose exit code is berth's
	timeout      *time.Duration
	printer      printerOptions
}

// printerOptions are how log lines look: --no-log-prefix, --no-color,
// --timestamps.
type printerOptions struct {
	noPrefix, noColor, timestamps bool
}

// exit is one container's exit.
type exit struct {
	c    engine.ContainerView
	code int
}

// attach follows the logs of the project's containers until all of them
// have exited, one exits and o.onExit says to abort, or the user
// interrupts; then, as Docker Compose does, it stops the containers that
// still run. Berth's exit code is then the first exited container's
// (when aborting) or o.exitCodeFrom's.
func attach(ctx context.Context, cmd *cobra.Command, s *session, o attachOptions) error {
	all, err := s.engine.Containers(context.Background(), s.project.Name, nil, false)
	if err != nil {
		return err
	}
	var recs, shown []engine.ContainerView
	for _, c := range all {
		if slices.Contains(o.monitor, c.Service) {
			recs = append(recs, c)
		}
		if slices.Contains(o.show, c.Service) {
			shown = append(shown, c)
		}
	}
	out := cmd.OutOrStdout()
	pr := newLogPrinter(out, shown, o.printer)
	names := make([]string, len(shown))
	for i, c := range shown {
		names[i] = prefixName(c)
	}
	fmt.Fprintf(out, "Attaching to %s\n", strings.Join(names, ", "))

	follow, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var logs sync.WaitGroup
	for _, c := range shown {
		logs.Add(1)
		go func() {
			defer logs.Done()
			_ = s.engine.Logs(follow, c.Name, engine.LogOptions{Follow: true, Tail: -1}, pr.line(c))
		}()
	}
	exits := make(chan exit, len(recs))
	for _, c := range recs {
		go func() {
			if code, err := s.engine.Wait(follow, c.Name); err == nil {
				exits <- exit{c, code}
			}
		}()
	}

	code, aborted, captured := 0, false, false
	stopped := make(chan error, 1)
	stop := func(why string) {
		aborted = true
		fmt.Fprintln(cmd.ErrOrStderr(), why)
		go func() {
			stopped <- s.run(context.WithoutCancel(ctx), newProgress(statusOut(cmd)), func(obs reconcile.Observed) (reconcile.Plan, error) {
				return reconcile.PlanStop(s.project, obs, reconcile.StopOptions{Services: o.services, Timeout: o.timeout})
			})
		}()
	}
	interrupted := ctx.Done()
	for pending := len(recs); pending > 0; {
		select {
		case <-interrupted:
			interrupted = nil
			if !aborted {
				stop("Gracefully stopping...")
			}
		case ev := <-exits:
			pending--
			pr.status(ev.c, fmt.Sprintf("exited with code %d", ev.code))
			if ev.c.Service == o.exitCodeFrom && !captured {
				code, captured = ev.code, true
			}
			if aborted || o.onExit == cascadeIgnore || o.onExit == cascadeFail && ev.code == 0 {
				continue
			}
			if !captured {
				code = ev.code
			}
			stop("Aborting on container exit...")
		}
	}
	var stopErr error
	if aborted {
		stopErr = <-stopped
	}
	time.Sleep(300 * time.Millisecond) // let the followers drain the last lines
	cancel()
	logs.Wait()
	if stopErr != nil {
		return stopErr
	}
	return exitStatus(code)
}

// logPrinter writes attached up's output: each container's log lines
// behind its prefix ("<service>-<n> | ", coloured on a terminal), and a
// status line when a container exits, as Docker Compose's log consumer.
type logPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	o        printerOptions
	width    int
	colour   map[string]string // container -> ANSI colour; none when plain
	prefixes map[string]string
}

func newLogPrinter(w io.Writer, shown []engine.ContainerView, o printerOptions) *logPrinter {
	p := &logPrinter{w: w, o: o, colour: map[string]string{}, prefixes: map[string]string{}}
	for _, c := range shown {
		p.width = max(p.width, len(prefixName(c)))
	}
	tty := isTerminal(w) && !o.noColor
	for i, c := range shown {
		if tty {
			p.colour[c.Name] = colors[i%len(colors)]
		}
		if !o.noPrefix {
			p.prefixes[c.Name] = p.paint(c.Name, fmt.Sprintf("%-*s | ", p.width, prefixName(c)))
		}
	}
	return p
}

// paint colours s as container's lines are.
func (p *logPrinter) paint(container, s string) string {
	if col := p.colour[container]; col != "" {
		return "\x1b[" + col + "m" + s + "\x1b[0m"
	}
	return s
}

// line returns the writer of c's log lines.
func (p *logPrinter) line(c engine.ContainerView) func(engine.LogLine) error {
	return func(l engine.LogLine) error {
		ts := ""
		if p.o.timestamps {
			ts = l.Time.Format("2006-01-02T15:04:05.000000000Z07:00") + " "
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		_, err := fmt.Fprintf(p.w, "%s%s%s\n", p.prefixes[c.Name], ts, strings.TrimSuffix(l.Text, "\n"))
		return err
	}
}

// status prints a line about container c: "<service>-<n> exited with code 0".
func (p *logPrinter) status(c engine.ContainerView, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, p.paint(c.Name, prefixName(c)+" "+msg))
}
