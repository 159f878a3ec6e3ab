package engine

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/lifecycle"
)

// TopView is one running container's processes, in the columns of the
// host's `ps -ef`, as docker top shows them.
type TopView struct {
	Name, Service string
	Number        int
	Titles        []string   // UID PID PPID C STIME TTY TIME CMD
	Processes     [][]string // one row per process, in Titles' order
}

// Top lists the processes of a project's running (or paused) containers,
// those of the named services only when any are named, sorted by name.
// Like Docker it runs the host's `ps -ef` and keeps the rows of the pids
// in each container's cgroup.
func (e *Engine) Top(ctx context.Context, project string, services []string) ([]TopView, error) {
	cs, err := e.Containers(ctx, project, services, false)
	if err != nil {
		return nil, err
	}
	var out []TopView
	var ps []byte
	for _, c := range cs {
		st, err := e.Status(ctx, c.Name)
		if err != nil {
			return nil, err
		}
		if st != lifecycle.Running && st != lifecycle.Paused {
			continue
		}
		pids, err := e.runtime.Processes(c.Name)
		if err != nil {
			return nil, err
		}
		if ps == nil {
			if ps, err = exec.CommandContext(ctx, "ps", "-ef").Output(); err != nil {
				return nil, fmt.Errorf("running ps -ef: %w", err)
			}
		}
		titles, procs, err := parsePS(string(ps), pids)
		if err != nil {
			return nil, fmt.Errorf("processes of %s: %w", c.Name, err)
		}
		out = append(out, TopView{Name: c.Name, Service: c.Service, Number: c.Number, Titles: titles, Processes: procs})
	}
	slices.SortFunc(out, func(a, b TopView) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// parsePS splits the output of `ps -ef` into its titles and the rows of
// the processes pids, the last column (the command) keeping its spaces.
func parsePS(out string, pids []int) (titles []string, procs [][]string, err error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	titles = strings.Fields(lines[0])
	col := slices.Index(titles, "PID")
	if col < 0 || len(titles) < 2 {
		return nil, nil, fmt.Errorf("no PID column in the output of ps: %q", lines[0])
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < len(titles) {
			continue
		}
		pid, err := strconv.Atoi(f[col])
		if err != nil || !slices.Contains(pids, pid) {
			continue
		}
		last := len(titles) - 1
		procs = append(procs, append(f[:last:last], strings.Join(f[last:], " ")))
	}
	return titles, procs, nil
}
