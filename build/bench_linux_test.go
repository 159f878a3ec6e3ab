package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
// the mean time of the steps that ran and of the RUN alone (bench/build.sh).
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
	perStep := map[string]time.Duration{}
	build := func(b *testing.B, o Options) (run time.Duration, ran int) {
		o.Context, o.Tag = dir, "bench:1"
		o.Progress = func(ev Event) {
			if ev.Done && o.NoCache {
				perStep[ev.Instruction] += ev.Duration
			}
			if ev.Done && !ev.Cached && ev.Step > 1 {
				ran++
				if ev.Instruction[:3] == "RUN" {
					run += ev.Duration
				}
			}
		}
		if _, err := Build(context.Background(), e.store, e.rt, o); err != nil {
			b.Fatal(err)
		}
		return run, ran
	}
	report := func(b *testing.B, run time.Duration, ran int) {
		b.ReportMetric(float64(ran)/float64(b.N), "steps-run/op")
		b.ReportMetric(float64(run.Milliseconds())/float64(b.N), "RUN-ms/op")
	}
	b.Run("cold", func(b *testing.B) {
		var run time.Duration
		var ran int
		for b.Loop() {
			r, n := build(b, Options{NoCache: true})
			run, ran = run+r, ran+n
		}
		report(b, run, ran)
		for ins, d := range perStep {
			b.Logf("cold %6.1f ms  %s", float64(d.Microseconds())/1000/float64(b.N), ins)
		}
	})
	build(b, Options{})
	b.Run("cached", func(b *testing.B) {
		var run time.Duration
		var ran int
		for b.Loop() {
			r, n := build(b, Options{})
			run, ran = run+r, ran+n
		}
		report(b, run, ran)
	})
	b.Run("last-file-changed", func(b *testing.B) {
		var run time.Duration
		var ran int
		i := 0
		for b.Loop() {
			i++
			os.WriteFile(filepath.Join(dir, "last.txt"), fmt.Appendf(nil, "v%d\n", i), 0o644)
			r, n := build(b, Options{})
			run, ran = run+r, ran+n
		}
		report(b, run, ran)
	})
}
