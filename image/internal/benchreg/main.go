// Command benchreg serves an in-process registry on 127.0.0.1 holding one
// synthetic image of incompressible random layers, for bench/pull.sh. It
// prints the image reference on stdout, optionally writes each layer's
// uncompressed tar into -layers DIR, and exits when stdin closes.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	layers := flag.Int("n", 8, "number of layers")
	mb := flag.Int("mb", 200, "total image size in MB")
	files := flag.Int("files", 32, "files per layer")
	dump := flag.String("layers", "", "directory to write each layer's uncompressed tar into")
	flag.Parse()
	if err := run(*layers, *mb, *files, *dump); err != nil {
		log.Fatal(err)
	}
}

func run(n, mb, files int, dump string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(ln, registry.New(registry.Logger(log.New(io.Discard, "", 0))))

	rng := rand.New(rand.NewPCG(7, 11))
	img := empty.Image
	per := int64(mb) << 20 / int64(n) / int64(files)
	for i := range n {
		plain := layerTar(rng, i, files, per)
		if dump != "" {
			if err := os.WriteFile(filepath.Join(dump, fmt.Sprintf("layer%d.tar", i)), plain, 0o644); err != nil {
				return err
			}
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(plain)), nil })
		if err != nil {
			return err
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config = v1.Config{Cmd: []string{"/bin/true"}}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	ref := ln.Addr().String() + "/bench/big:1"
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	if err := remote.Write(tag, img); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	fmt.Println(ref)
	io.Copy(io.Discard, os.Stdin) // serve until stdin closes
	return nil
}

// layerTar is one layer of files of random bytes.
func layerTar(rng *rand.Rand, layer, files int, size int64) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := "data/l" + strconv.Itoa(layer) + "/"
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755})
	body := make([]byte, size)
	for f := range files {
		for i := 0; i+8 <= len(body); i += 8 {
			v := rng.Uint64()
			for k := range 8 {
				body[i+k] = byte(v >> (8 * k))
			}
		}
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dir + "f" + strconv.Itoa(f), Mode: 0o644, Size: size})
		tw.Write(body)
	}
	tw.Close()
	return buf.Bytes()
}
