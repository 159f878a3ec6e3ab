package compose

import (
	"bytes"
	"io"
	"strconv"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
)

// statsRow is one row of `stats`, its fields Docker's template keys in
// the order of Docker's JSON.
type statsRow struct {
	BlockIO   string
	CPUPerc   string
	Container string
	ID        string
	MemPerc   string
	MemUsage  string
	Name      string
	NetIO     string
	PIDs      string
}

// statsListing renders stats' rows with Docker's columns.
var statsListing = listing{
	table: `{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}`,
	headers: map[string]string{"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
		"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"},
	minCell: 10,
}

// The intervals between samples: the first frame's CPU % is over a short
// one, so that --no-stream answers at once; a stream then refreshes every
// second, as Docker's daemon samples.
const (
	firstInterval  = 100 * time.Millisecond
	streamInterval = time.Second
)

func newStatsCommand(g *globals) *cobra.Command {
	var all, noStream, noTrunc bool
	var format string
	cmd := &cobra.Command{
		Use:   "stats [OPTIONS] [SERVICE...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			project, err := g.nameOfProject(ctx)
			if err != nil {
				return err
			}
			return g.withEngine(func(e *engine.Engine) error {
				sample := func() (statsSample, error) {
					host, cs, err := e.Stats(ctx, project, args)
					return statsSample{host: host, containers: cs}, err
				}
				prev, err := sample()
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				for wait := firstInterval; ; wait = streamInterval {
					select {
					case <-ctx.Done():
						return nil
					case <-time.After(wait):
					}
					cur, err := sample()
					if err != nil {
						return err
					}
					rows := statsRows(prev, cur, all, !noTrunc)
					if noStream {
						if len(rows) == 0 {
							return nil // Docker prints nothing, not even the header
						}
						return statsListing.render(out, format, rows)
					}
					if err := statsFrame(out, format, rows); err != nil {
						return err
					}
					prev = cur
				}
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all containers (default shows just running)")
	cmd.Flags().BoolVar(&noStream, "no-stream", false, "disable streaming stats and only pull the first result")
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "do not truncate output")
	cmd.Flags().StringVar(&format, "format", "table", formatUsage)
	return cmd
}

// statsFrame writes one frame of a stream as Docker does, to a terminal
// or not: the cursor home, each line erased to its end, the rest of the
// screen erased.
func statsFrame(w io.Writer, format string, rows []statsRow) error {
	var body, frame bytes.Buffer
	if err := statsListing.render(&body, format, rows); err != nil {
		return err
	}
	frame.WriteString("\033[H")
	for line := range bytes.Lines(body.Bytes()) {
		frame.Write(bytes.TrimSuffix(line, []byte("\n")))
		frame.WriteString("\033[K\n")
	}
	frame.WriteString("\033[J")
	_, err := w.Write(frame.Bytes())
	return err
}

// statsSample is one sample of the project's containers and the host.
type statsSample struct {
	host       engine.HostUsage
	containers []engine.ContainerStats
}

// statsRows computes each container's row from two samples, in Docker's
// units: running containers only unless all.
func statsRows(prev, cur statsSample, all, trunc bool) []statsRow {
	before := map[string]engine.Usage{}
	for _, c := range prev.containers {
		before[c.ID] = c.Usage
	}
	rows := []statsRow{}
	for _, c := range cur.containers {
		if !c.Running && !all {
			continue
		}
		u := c.Usage
		limit := u.MemoryLimit
		if limit > cur.host.Memory && cur.host.Memory > 0 {
			limit = cur.host.Memory // no limit of its own: the host's memory is
		}
		mem := memoryUsed(u)
		id := c.ID
		if trunc {
			id = id[:min(12, len(id))]
		}
		cpu := 0.0 // a container not in the first sample has no CPU % yet
		if b, ok := before[c.ID]; ok {
			cpu = cpuPercent(b.CPUTotal, u.CPUTotal, prev.host.SystemCPU, cur.host.SystemCPU, cur.host.OnlineCPUs)
		}
		rows = append(rows, statsRow{Container: c.ID, ID: id, Name: c.Name, CPUPerc: percent(cpu),
			MemUsage: units.BytesSize(float64(mem)) + " / " + units.BytesSize(float64(limit)),
			MemPerc:  percent(memoryPercent(mem, limit)),
			NetIO:    decimalPair(u.NetRx, u.NetTx),
			BlockIO:  decimalPair(u.BlockRead, u.BlockWrite),
			PIDs:     strconv.FormatUint(u.Pids, 10)})
	}
	return rows
}

// cpuPercent is Docker's CPU %: the container's CPU time over the host's
// between two samples, times the CPUs, as a percentage.
func cpuPercent(prevCPU, curCPU, prevSystem, curSystem uint64, cpus int) float64 {
	if curCPU <= prevCPU || curSystem <= prevSystem {
		return 0
	}
	return float64(curCPU-prevCPU) / float64(curSystem-prevSystem) * float64(cpus) * 100
}

// memoryUsed is Docker's memory usage: the cgroup's, less its inactive
// file cache.
func memoryUsed(u engine.Usage) uint64 {
	if u.MemoryInactive < u.Memory {
		return u.Memory - u.MemoryInactive
	}
	return u.Memory
}

// memoryPercent is used of limit as a percentage; 0 without a limit.
func memoryPercent(used, limit uint64) float64 {
	if limit == 0 {
		return 0
	}
	return float64(used) / float64(limit) * 100
}

// percent is Docker's form of a percentage: two decimals.
func percent(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "%" }

// decimalPair is "in / out" in decimal units, Docker's form of I/O.
func decimalPair(in, out uint64) string {
	return units.HumanSizeWithPrecision(float64(in), 3) + " / " + units.HumanSizeWithPrecision(float64(out), 3)
}
