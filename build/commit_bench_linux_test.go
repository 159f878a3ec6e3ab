package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/image"
)

// BenchmarkCommitLayer measures making a layer of an upper directory (the
// tar diff, its blob written and hashed and synced): one 10 MB file, or
// 200 small files; no container, no root needed.
func BenchmarkCommitLayer(b *testing.B) {
	for _, tc := range []struct {
		name  string
		files map[string]int
	}{
		{"10MB", map[string]int{"app/big": 10 << 20}},
		{"200-files", func() map[string]int {
			m := map[string]int{}
			for i := range 200 {
				m[fmt.Sprintf("app/files/f%03d.txt", i)] = 16
			}
			return m
		}()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			store, err := image.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			bl := &builder{store: store}
			lower := b.TempDir()
			for b.Loop() {
				b.StopTimer()
				upper := filepath.Join(b.TempDir(), "upper")
				for name, size := range tc.files {
					p := filepath.Join(upper, name)
					os.MkdirAll(filepath.Dir(p), 0o755)
					if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if _, err := bl.commitUpper(context.Background(), upper, []string{lower}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
