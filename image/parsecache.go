package image

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// parsed keeps what this process has parsed of the store, so that a
// burst of creations from one image (a cold `up` of many services) reads
// and decodes its index, manifest and config once rather than once per
// container (issue 15). Blobs are content-addressed: a manifest digest's
// manifest and config never change, so they are kept while their blobs
// are there (at most maxParsedImages of them, the least recently used
// going first). index.json is read at each use (reading is cheap,
// decoding is what costs) and its decoded form is kept while its bytes
// are the same: a file's identity (inode, size, change time) would not
// do, as ext4 hands successive renames the same two inodes, a retag
// keeps the size, and a change time is only as fine as a clock tick
// without multigrain timestamps. Everything kept is shared and read
// only; load gives each caller an Image of its own.
type parsed struct {
	mu       sync.Mutex
	index    *v1.IndexManifest
	indexRaw []byte // the bytes index was decoded from
	images   map[v1.Hash]*parsedImage
	uses     uint64 // a clock for parsedImage.used
}

// maxParsedImages bounds parsed.images: a process that lives on
// (reconcile --watch) sees every image ever pulled or built.
const maxParsedImages = 64

// parsedImage is one manifest and its config.
type parsedImage struct {
	m    *v1.Manifest
	cfg  *v1.ConfigFile
	used uint64 // parsed.uses at its last use
}

// readIndexShared is readIndex for a caller that only reads the result
// (Get): the decoded index is shared with other such callers while
// index.json holds the same bytes.
func (s *Store) readIndexShared() (*v1.IndexManifest, error) {
	raw, err := os.ReadFile(s.path("index.json"))
	if err != nil {
		return s.readIndex() // its error (or, when absent, the empty index)
	}
	s.parsed.mu.Lock()
	im := s.parsed.index
	same := im != nil && bytes.Equal(s.parsed.indexRaw, raw)
	s.parsed.mu.Unlock()
	if same {
		return im, nil
	}
	im, err = parseIndex(raw, s.path("index.json"))
	if err != nil {
		return nil, err
	}
	s.parsed.mu.Lock()
	s.parsed.index, s.parsed.indexRaw = im, raw
	s.parsed.mu.Unlock()
	return im, nil
}

// forgetIndex drops the decoded index kept, as index.json changes.
func (s *Store) forgetIndex() {
	s.parsed.mu.Lock()
	s.parsed.index, s.parsed.indexRaw = nil, nil
	s.parsed.mu.Unlock()
}

// manifestAndConfig reads and parses an image manifest and its config,
// once per process (see parsed); the results are shared, read only.
func (s *Store) manifestAndConfig(digest v1.Hash) (*v1.Manifest, *v1.ConfigFile, error) {
	s.parsed.mu.Lock()
	p, ok := s.parsed.images[digest]
	if ok {
		s.parsed.uses++
		p.used = s.parsed.uses
	}
	s.parsed.mu.Unlock()
	if ok {
		// Kept, but still there (its manifest and its config): a blob
		// pruned since is not found, as it would be when read, and the
		// image is forgotten.
		err := s.blobPresent(digest, "reading manifest")
		if err == nil {
			err = s.blobPresent(p.m.Config.Digest, "reading config of "+digest.String())
		}
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				s.parsed.mu.Lock()
				delete(s.parsed.images, digest)
				s.parsed.mu.Unlock()
			}
			return nil, nil, err
		}
		return p.m, p.cfg, nil
	}
	m, cfg, err := s.readManifestAndConfig(digest)
	if err != nil {
		return nil, nil, err
	}
	s.parsed.mu.Lock()
	defer s.parsed.mu.Unlock()
	if s.parsed.images == nil {
		s.parsed.images = map[v1.Hash]*parsedImage{}
	}
	if _, ok := s.parsed.images[digest]; !ok && len(s.parsed.images) >= maxParsedImages {
		s.evictParsedImage()
	}
	s.parsed.uses++
	s.parsed.images[digest] = &parsedImage{m: m, cfg: cfg, used: s.parsed.uses}
	return m, cfg, nil
}

// evictParsedImage drops the least recently used image kept; the caller
// holds s.parsed.mu.
func (s *Store) evictParsedImage() {
	var oldest v1.Hash
	var at uint64
	for d, p := range s.parsed.images {
		if at == 0 || p.used < at {
			oldest, at = d, p.used
		}
	}
	delete(s.parsed.images, oldest)
}

// blobPresent checks that blob digest is in the store, as reading it
// would (doing says what for the error).
func (s *Store) blobPresent(digest v1.Hash, doing string) error {
	if _, err := os.Stat(s.blobPath(digest)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: blob %s: %w", doing, digest, ErrNotFound)
		}
		return fmt.Errorf("%s: %w", doing, err)
	}
	return nil
}

// clone is c with slices and maps of its own.
func (c Config) clone() Config {
	c.Entrypoint, c.Cmd, c.Env = slices.Clone(c.Entrypoint), slices.Clone(c.Cmd), slices.Clone(c.Env)
	c.Shell, c.OnBuild = slices.Clone(c.Shell), slices.Clone(c.OnBuild)
	c.ExposedPorts, c.Volumes = slices.Clone(c.ExposedPorts), slices.Clone(c.Volumes)
	c.Labels = maps.Clone(c.Labels)
	if c.Healthcheck != nil {
		h := *c.Healthcheck
		h.Test = slices.Clone(h.Test)
		c.Healthcheck = &h
	}
	return c
}
