package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is one layer of an image as a builder sees it: its blob in the
// store, the diff ID of its content and its unpacked snapshot directory.
type Layer struct {
	Digest    string // blob digest "sha256:…"
	DiffID    string // digest of the uncompressed tar "sha256:…"
	MediaType string // OCI layer media type of the blob
	Size      int64  // blob size in bytes
	Dir       string // absolute snapshot directory (an overlay lowerdir)
}

// History is one entry of an image's history: the step that made it.
type History struct {
	Created    time.Time
	CreatedBy  string // the instruction, e.g. "RUN /bin/sh -c make"
	Comment    string
	EmptyLayer bool  // the step changed no files
	Size       int64 // from HistoryOf: the size of the layer the step made (its blob), 0 for an empty one
}

// Layers returns img's layers, bottom first, unpacking any missing
// snapshot from its blob.
func (s *Store) Layers(ctx context.Context, img *Image) ([]Layer, error) {
	var out []Layer
	err := s.eachLayer(ctx, img, "layers", func(n int) { out = make([]Layer, n) }, func(ctx context.Context, i int, l v1.Descriptor, diffID v1.Hash) error {
		var err error
		out[i], err = s.ensureLayer(ctx, Layer{Digest: l.Digest.String(), DiffID: diffID.String(), MediaType: string(l.MediaType), Size: l.Size})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddLayer stores the layer tarball r (plain, gzip or zstd) as a blob and
// unpacks its snapshot; no image refers to it until Commit.
func (s *Store) AddLayer(ctx context.Context, r io.Reader) (Layer, error) {
	unlock, err := s.use(ctx)
	if err != nil {
		return Layer{}, err
	}
	defer unlock()
	desc, diffID, err := s.ingestLayer(r)
	if err != nil {
		return Layer{}, fmt.Errorf("adding layer: %w", err)
	}
	l, err := s.ensureLayer(ctx, Layer{Digest: desc.Digest.String(), DiffID: diffID.String(), MediaType: string(desc.MediaType), Size: desc.Size})
	if err != nil {
		return Layer{}, fmt.Errorf("adding layer: %w", err)
	}
	return l, nil
}

// AddLayerDir is AddLayer for a layer whose content is already unpacked
// in dir, as a snapshot is (overlayfs whiteouts and opaque directories):
// dir becomes the layer's snapshot (renamed, not copied) when the store
// has none, else it is left alone. The caller vouches that dir holds
// exactly what r does; it unpacks r instead when dir cannot be renamed.
func (s *Store) AddLayerDir(ctx context.Context, r io.Reader, dir string) (Layer, error) {
	unlock, err := s.use(ctx)
	if err != nil {
		return Layer{}, err
	}
	defer unlock()
	desc, diffID, err := s.ingestLayer(r)
	if err != nil {
		return Layer{}, fmt.Errorf("adding layer: %w", err)
	}
	if err := s.adoptSnapshot(ctx, diffID, dir); err != nil {
		return Layer{}, fmt.Errorf("adding layer: %w", err)
	}
	l, err := s.ensureLayer(ctx, Layer{Digest: desc.Digest.String(), DiffID: diffID.String(), MediaType: string(desc.MediaType), Size: desc.Size})
	if err != nil {
		return Layer{}, fmt.Errorf("adding layer: %w", err)
	}
	return l, nil
}

// adoptSnapshot renames dir into place as the snapshot of diffID unless
// there is one; a failed rename leaves the unpacking to ensureSnapshot.
func (s *Store) adoptSnapshot(ctx context.Context, diffID v1.Hash, dir string) error {
	snap, err := s.snapshotDir(diffID.String())
	if err != nil || isDir(snap) {
		return err
	}
	unlock, err := lockFile(ctx, s.snapshotLock(diffID))
	if err != nil {
		return err
	}
	defer unlock()
	if isDir(snap) {
		return nil
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil
	}
	_ = os.Rename(dir, snap) // EXDEV and the like: unpacked from the blob instead
	return nil
}

// EnsureLayer checks that l's blob is still in the store (an image prune
// removes blobs no image uses) and unpacks its snapshot if missing; it
// returns l with Dir set, or an error wrapping ErrNotFound.
func (s *Store) EnsureLayer(ctx context.Context, l Layer) (Layer, error) {
	unlock, err := s.use(ctx)
	if err != nil {
		return Layer{}, err
	}
	defer unlock()
	return s.ensureLayer(ctx, l)
}

func (s *Store) ensureLayer(ctx context.Context, l Layer) (Layer, error) {
	blob, err := parseHash(l.Digest)
	if err != nil {
		return Layer{}, err
	}
	diffID, err := parseHash(l.DiffID)
	if err != nil {
		return Layer{}, err
	}
	if !s.hasBlob(blob) {
		return Layer{}, fmt.Errorf("layer blob %s: %w", blob, ErrNotFound)
	}
	l.Dir, _, err = s.ensureSnapshot(ctx, diffID, func() (io.ReadCloser, error) { return s.openBlob(blob) })
	return l, err
}

// Commit writes an image of layers (bottom first, all in the store) with
// configuration cfg, history and creation time created (so that one build
// repeated from its cache gives the same image ID), and tags it ref
// (normalised) unless ref is "". History has one entry per step,
// empty-layer steps included.
func (s *Store) Commit(ctx context.Context, layers []Layer, cfg Config, history []History, created time.Time, ref string) (*Image, error) {
	norm := ""
	if ref != "" {
		var err error
		if norm, err = NormalizeRef(ref); err != nil {
			return nil, err
		}
		if strings.Contains(norm, "@") {
			return nil, fmt.Errorf("tagging %q: cannot tag with a digest", ref)
		}
	}
	unlock, err := s.use(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cf := v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      v1.Time{Time: created.UTC()},
		Config:       cfg.toV1(),
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{}},
	}
	descs := make([]v1.Descriptor, len(layers))
	for i, l := range layers {
		d, err := parseHash(l.Digest)
		if err != nil {
			return nil, err
		}
		id, err := parseHash(l.DiffID)
		if err != nil {
			return nil, err
		}
		if !s.hasBlob(d) {
			return nil, fmt.Errorf("committing %s: layer blob %s: %w", ref, d, ErrNotFound)
		}
		descs[i] = v1.Descriptor{MediaType: types.MediaType(l.MediaType), Size: l.Size, Digest: d}
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, id)
	}
	for _, h := range history {
		cf.History = append(cf.History, v1.History{Created: v1.Time{Time: h.Created.UTC()}, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer})
	}
	img, err := s.writeImage(ctx, cf, descs, norm)
	if err != nil {
		return nil, fmt.Errorf("committing %s: %w", ref, err)
	}
	return img, nil
}

// writeImage stores config cf and the manifest of layers (blobs already
// stored), adds the image to the index under norm ("" for untagged) and
// returns it.
func (s *Store) writeImage(ctx context.Context, cf v1.ConfigFile, layers []v1.Descriptor, norm string) (*Image, error) {
	rawCfg, err := json.Marshal(cf)
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	cfgDigest, err := s.putBlob(nil, rawCfg)
	if err != nil {
		return nil, fmt.Errorf("storing config: %w", err)
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(rawCfg)), Digest: cfgDigest},
		Layers:        layers,
	}
	rawManifest, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	digest, err := s.putBlob(nil, rawManifest)
	if err != nil {
		return nil, fmt.Errorf("storing manifest: %w", err)
	}
	entry := v1.Descriptor{
		MediaType:   types.OCIManifestSchema1,
		Size:        int64(len(rawManifest)),
		Digest:      digest,
		Platform:    cf.Platform(),
		Annotations: map[string]string{annotationID: cfgDigest.String()},
	}
	if norm != "" {
		entry.Annotations[annotationRefName] = norm
	}
	if err := s.tag(ctx, norm, entry); err != nil {
		return nil, err
	}
	return s.load(entry)
}

// Hold keeps a prune from removing blobs and snapshots until release is
// called: a builder holds it while its layers are not yet in an image.
func (s *Store) Hold(ctx context.Context) (release func(), err error) {
	return s.use(ctx)
}

// BuildCacheDir is the directory (created on demand) where a builder keeps
// its step cache records for this store.
func (s *Store) BuildCacheDir() (string, error) {
	d := s.path("buildcache")
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("creating build cache directory: %w", err)
	}
	return d, nil
}

// HistoryOf returns img's history, oldest first, each step that made a
// layer with the size of its layer.
func (s *Store) HistoryOf(img *Image) ([]History, error) {
	digest, err := parseHash(img.Digest)
	if err != nil {
		return nil, err
	}
	m, cfg, err := s.manifestAndConfig(digest)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", img.Digest, err)
	}
	out := make([]History, len(cfg.History))
	layer := 0
	for i, h := range cfg.History {
		out[i] = History{Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if !h.EmptyLayer && layer < len(m.Layers) {
			out[i].Size = m.Layers[layer].Size
			layer++
		}
	}
	return out, nil
}
