package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/internal/topdir"
	"github.com/google/go-containerregistry/pkg/authn"
)

// ErrNotFound is returned when an image, a tag or a blob is not in the store.
var ErrNotFound = errors.New("image not found")

// ErrAmbiguous is returned when a short image ID matches more than one image.
var ErrAmbiguous = errors.New("ambiguous image ID prefix")

// Store is the image store under <root>/image: an OCI image layout
// (readable by go-containerregistry's pkg/v1/layout) holding blobs and an
// index.json whose entries carry the normalised reference in the
// org.opencontainers.image.ref.name annotation, plus unpacked layer snapshots
// at <root>/image/snapshots/<diffid-hex>/, each the content of one layer for
// use as an overlayfs lowerdir.
//
// Several processes may use one root at once: index.json is rewritten
// (temp file + rename) under an flock, blobs and snapshots are written under
// a temporary name and renamed into place, and a per-blob / per-snapshot
// flock makes concurrent pulls of one layer download and unpack it once.
type Store struct {
	dir        string // <root>/image
	keychain   authn.Keychain
	rt         http.RoundTripper
	jobs       int
	registries RegistryConfig
	maxLayer   int64 // the cap of one layer's decompressed size; 0: the free space only

	parsed parsed // what this process has read of the store (parsecache.go)

	afterRename func() error // tests: a crash between a pull's renames and its record (see batch)
}

// Option configures a Store.
type Option func(*Store) error

// WithKeychain sets where registry credentials come from (default
// authn.DefaultKeychain: the Docker config and its credential helpers).
func WithKeychain(k authn.Keychain) Option {
	return func(s *Store) error {
		if k == nil {
			return errors.New("WithKeychain: nil keychain")
		}
		s.keychain = k
		return nil
	}
}

// WithTransport sets the HTTP transport used to talk to registries.
func WithTransport(rt http.RoundTripper) Option {
	return func(s *Store) error {
		if rt == nil {
			return errors.New("WithTransport: nil transport")
		}
		s.rt = rt
		return nil
	}
}

// WithConcurrency sets how many layers one Pull downloads and unpacks at
// once (default 4).
func WithConcurrency(n int) Option {
	return func(s *Store) error {
		if n < 1 {
			return fmt.Errorf("WithConcurrency(%d): need at least 1", n)
		}
		s.jobs = n
		return nil
	}
}

// Open opens (creating when absent) the image store under root/image.
func Open(root string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("opening image store in %q: %w", root, err)
	}
	s := &Store{
		dir:      filepath.Join(abs, "image"),
		keychain: authn.DefaultKeychain,
		rt:       http.DefaultTransport,
		jobs:     4,
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, fmt.Errorf("opening image store: %w", err)
		}
	}
	for _, d := range []string{s.dir, s.path("blobs", "sha256"), s.path("snapshots"), s.path("tmp"), s.path("locks")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating image store directory: %w", err)
		}
	}
	topdir.Mark(s.path("tmp")) // layers are unpacked there, then renamed
	if err := s.initLayout(); err != nil {
		return nil, fmt.Errorf("initialising image layout in %s: %w", s.dir, err)
	}
	return s, nil
}

// path joins elements onto the store directory.
func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

// snapshotDir is where the layer with diff ID diffID ("sha256:…") is unpacked.
func (s *Store) snapshotDir(diffID string) (string, error) {
	h, err := parseHash(diffID)
	if err != nil {
		return "", err
	}
	return s.path("snapshots", h.Hex), nil
}

// use takes the store lock shared: everything that writes or reads blobs
// and snapshots holds it, so that Prune, which takes it exclusively, never
// deletes what a Pull, Load, Import, Save or Push is using.
func (s *Store) use(ctx context.Context) (unlock func(), err error) {
	unlock, err = lockShared(ctx, s.path("locks", "store.lock"))
	if err != nil {
		return nil, fmt.Errorf("locking image store: %w", err)
	}
	return unlock, nil
}
