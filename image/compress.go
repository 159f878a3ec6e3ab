package image

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compression is how a layer blob is compressed, told by its magic bytes.
type compression int

const (
	uncompressed compression = iota
	gzipped
	zstded
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// detect peeks at the first bytes of r.
func detect(r *bufio.Reader) compression {
	head, _ := r.Peek(4)
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return gzipped
	case bytes.HasPrefix(head, zstdMagic):
		return zstded
	default:
		return uncompressed
	}
}

// mediaType is the OCI layer media type for a compression.
func (c compression) mediaType() types.MediaType {
	switch c {
	case gzipped:
		return types.OCILayer
	case zstded:
		return types.OCILayerZStd
	default:
		return types.OCIUncompressedLayer
	}
}

// decompress returns the uncompressed stream of a layer blob, whatever its
// compression (gzip, zstd or none), and the compression it found.
func decompress(r io.Reader) (io.ReadCloser, compression, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	c := detect(br)
	switch c {
	case gzipped:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("opening gzip stream: %w", err)
		}
		return zr, c, nil
	case zstded:
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("opening zstd stream: %w", err)
		}
		return zr.IOReadCloser(), c, nil
	default:
		return io.NopCloser(br), c, nil
	}
}
