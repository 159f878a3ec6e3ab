package spec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchStack writes the bench's project of n sleeping services (bench/lib.sh
// bench_sleepers) to a temporary directory and returns it.
func benchStack(b *testing.B, n int) string {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("services:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, "  s%d:\n    image: bench/busybox:1\n    command: [\"sleep\", \"100000\"]\n    environment: {V: \"1\"}\n", i)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkLoadMiss is a project-cache miss of the bench's 10-service
// stack: each iteration edits an environment value, as bench/compare.sh's
// recreate row does, and loads through the cache.
func BenchmarkLoadMiss(b *testing.B) {
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := benchStack(b, n)
			cache := b.TempDir()
			file := filepath.Join(dir, "compose.yaml")
			text, _ := os.ReadFile(file)
			o := LoadOptions{WorkingDir: dir, Environ: []string{}}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				edited := strings.Replace(string(text), `V: "1"`, fmt.Sprintf(`V: "%d"`, i+2), 1)
				if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
					b.Fatal(err)
				}
				if _, err := LoadCached(context.Background(), o, cache, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
