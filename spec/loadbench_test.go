package spec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoadMiss is a project-cache miss of the bench's 10-service
// stack: each iteration edits an environment value, as bench/compare.sh's
// recreate row does, and loads through the cache.
func BenchmarkLoadMiss(b *testing.B) {
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := sleepers(b, n)
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
