package image

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// ErrLayerTooLarge is returned when a layer's decompressed content would
// exceed the free space of the store's filesystem or the configured cap
// (WithMaxLayerSize). Nothing of the layer is committed.
var ErrLayerTooLarge = errors.New("layer too large")

// WithMaxLayerSize caps the decompressed size of one layer (bytes; 0:
// only the free space of the store's filesystem bounds it).
func WithMaxLayerSize(n int64) Option {
	return func(s *Store) error {
		if n < 0 {
			return fmt.Errorf("WithMaxLayerSize(%d): negative", n)
		}
		s.maxLayer = n
		return nil
	}
}

// layerBudget is how many decompressed bytes a layer unpacked into dir
// may have: the space free for unprivileged writers there (root's
// reserved blocks are kept for the host), or the cap when smaller.
func (s *Store) layerBudget(dir string) (int64, string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, "", fmt.Errorf("reading the free space of %s: %w", dir, err)
	}
	free := max(int64(st.Bavail)*int64(st.Bsize), 1) // 0 would mean no limit
	if s.maxLayer > 0 && s.maxLayer < free {
		return s.maxLayer, fmt.Sprintf("the layer size cap of %d bytes", s.maxLayer), nil
	}
	return free, fmt.Sprintf("the %d bytes free in %s", free, dir), nil
}

// budgetReader fails with ErrLayerTooLarge once more than left bytes were read.
type budgetReader struct {
	r    io.Reader
	left int64
	what string
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, fmt.Errorf("its decompressed content exceeds %s: %w", b.what, ErrLayerTooLarge)
	}
	return n, err
}
