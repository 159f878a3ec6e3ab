package image

import (
	"archive/tar"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// benchLayer is a ~50 MB layer: 400 files of 128 KiB of compressible text in
// 20 directories, like a typical application layer.
func benchLayer(b *testing.B) []byte {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"berth ", "layer ", "overlay ", "snapshot ", "image ", "digest ", "\n"}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := make([]byte, 0, 128<<10)
	for d := range 20 {
		dir := "usr/share/d" + strconv.Itoa(d) + "/"
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755})
		for f := range 20 {
			body = body[:0]
			for len(body) < 128<<10-16 {
				body = append(body, words[rng.IntN(len(words))]...)
			}
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dir + "f" + strconv.Itoa(f), Mode: 0o644, Size: int64(len(body))})
			tw.Write(body)
		}
	}
	tw.Close()
	return buf.Bytes()
}

// BenchmarkUnpack measures extraction throughput (MB/s of uncompressed
// layer) of a plain and a gzip-compressed ~50 MB layer.
func BenchmarkUnpack(b *testing.B) {
	plain := benchLayer(b)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	for name, layer := range map[string][]byte{"plain": plain, "gzip": gz.Bytes()} {
		b.Run(name, func(b *testing.B) {
			base := b.TempDir()
			b.SetBytes(int64(len(plain)))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				dst := filepath.Join(base, strconv.Itoa(i))
				if err := os.Mkdir(dst, 0o755); err != nil {
					b.Fatal(err)
				}
				if _, err := extractLayer(context.Background(), bytes.NewReader(layer), dst, 0, "", false); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.RemoveAll(dst)
				b.StartTimer()
			}
		})
	}
}

// benchRef is the image bench/pull.sh serves (BERTH_BENCH_REF); the
// benchmarks below skip without it.
func benchRef(b *testing.B) string {
	ref := os.Getenv("BERTH_BENCH_REF")
	if ref == "" {
		b.Skip("BERTH_BENCH_REF not set: run bench/pull.sh")
	}
	return ref
}

// BenchmarkPullStore pulls the bench image into an empty store.
func BenchmarkPullStore(b *testing.B) {
	ref := benchRef(b)
	base := b.TempDir()
	for i := 0; b.Loop(); i++ {
		s := mustOpen(b, filepath.Join(base, strconv.Itoa(i)))
		img, err := s.Pull(context.Background(), ref, PullOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(img.Size)
		b.StopTimer()
		os.RemoveAll(filepath.Join(base, strconv.Itoa(i)))
		b.StartTimer()
	}
}

// BenchmarkSnapshots unpacks every layer of the bench image from blobs
// already in the store, as Snapshots does for a missing snapshot; the
// bytes are the uncompressed layers'.
func BenchmarkSnapshots(b *testing.B) {
	ref := benchRef(b)
	s := mustOpen(b, b.TempDir())
	img, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, d := range img.DiffIDs {
		dir, _ := s.snapshotDir(d)
		total += diskUsage(dir)
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for _, d := range img.DiffIDs {
			dir, _ := s.snapshotDir(d)
			os.RemoveAll(dir)
		}
		b.StartTimer()
		if _, err := s.Snapshots(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}
