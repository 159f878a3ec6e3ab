package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchDockerfile is the 6-step Dockerfile: ENV, WORKDIR, COPY of
// 200 small files, a RUN that writes 10 MB, COPY of one file, CMD.
const benchDockerfile = `FROM busybox
ENV APP=bench
WORKDIR /app
COPY files/ ./files/
RUN dd if=/dev/zero of=/app/big bs=1M count=10 2>/dev/null
COPY last.txt ./
CMD ["cat", "last.txt"]
`

// BenchmarkBuild measures a cold build (--no-cache), a fully cached
// rebuild and a rebuild after the last copied file changed; it reports
// the mean time of the steps that ran, of the RUN and of the COPY of 200
// files, and, measured in the same loop as floors to compare them with,
// the RUN's command run on the host and `cp -a` of the 200 files
// (bench/build.sh prints the ratios).
func BenchmarkBuild(b *testing.B) {
	e := newEnv(b)
	files := map[string]string{"Dockerfile": benchDockerfile, "last.txt": "v0\n"}
	for i := range 200 {
		files[fmt.Sprintf("files/f%03d.txt", i)] = fmt.Sprintf("small file %d\n", i)
	}
	dir := b.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var runTime, copyTime time.Duration
	build := func(b *testing.B, o Options) (ran int) {
		o.Context, o.Tag = dir, "bench:1"
		o.Progress = func(ev Event) {
			if !ev.Done || ev.Cached || ev.Step == 1 {
				return
			}
			ran++
			switch {
			case strings.HasPrefix(ev.Instruction, "RUN"):
				runTime += ev.Duration
			case strings.HasPrefix(ev.Instruction, "COPY files/"):
				copyTime += ev.Duration
			}
		}
		if _, err := Build(context.Background(), e.store, e.rt, o); err != nil {
			b.Fatal(err)
		}
		return ran
	}
	// floor times a host command, in a scratch directory on the store's
	// filesystem.
	floor := func(b *testing.B, script string) time.Duration {
		scratch, err := os.MkdirTemp(e.root, "floor-")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(scratch)
		start := time.Now()
		if out, err := exec.Command("sh", "-c", script, "sh", scratch, dir).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v %s", script, err, out)
		}
		return time.Since(start)
	}
	ms := func(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	b.Run("cold", func(b *testing.B) {
		runTime, copyTime = 0, 0
		var ran int
		var ddFloor, cpFloor time.Duration
		for b.Loop() {
			ran += build(b, Options{NoCache: true})
			b.StopTimer()
			ddFloor += floor(b, `dd if=/dev/zero of="$1/big" bs=1M count=10 2>/dev/null`)
			cpFloor += floor(b, `cp -a "$2/files" "$1/"`)
			b.StartTimer()
		}
		b.ReportMetric(float64(ran)/float64(b.N), "steps-run/op")
		b.ReportMetric(ms(runTime, b.N), "RUN-ms/op")
		b.ReportMetric(ms(ddFloor, b.N), "RUN-floor-ms/op")
		b.ReportMetric(ms(copyTime, b.N), "COPY200-ms/op")
		b.ReportMetric(ms(cpFloor, b.N), "cp-a-floor-ms/op")
	})
	build(b, Options{})
	b.Run("cached", func(b *testing.B) {
		var ran int
		for b.Loop() {
			ran += build(b, Options{})
		}
		b.ReportMetric(float64(ran)/float64(b.N), "steps-run/op")
	})
	b.Run("last-file-changed", func(b *testing.B) {
		var ran int
		i := 0
		for b.Loop() {
			i++
			os.WriteFile(filepath.Join(dir, "last.txt"), fmt.Appendf(nil, "v%d\n", i), 0o644)
			ran += build(b, Options{})
		}
		b.ReportMetric(float64(ran)/float64(b.N), "steps-run/op")
	})
}
