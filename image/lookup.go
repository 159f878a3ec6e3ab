package image

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var hexPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-f0-9]{1,64}$`) })

// Get returns a local image by reference ("busybox", "x/y:tag",
// "name@sha256:…") or by ID ("sha256:…", or a unique prefix of the hex).
// It never contacts a registry. ErrNotFound when nothing matches,
// ErrAmbiguous when an ID prefix matches several images.
func (s *Store) Get(ref string) (*Image, error) {
	im, err := s.readIndexShared()
	if err != nil {
		return nil, err
	}
	d, _, err := find(im.Manifests, ref)
	if err != nil {
		return nil, err
	}
	return s.load(d)
}

// List returns every tagged and untagged image entry, one per reference.
func (s *Store) List() ([]Image, error) {
	im, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(im.Manifests))
	for _, d := range im.Manifests {
		img, err := s.load(d)
		if err != nil {
			return nil, err
		}
		out = append(out, *img)
	}
	return out, nil
}

// Lookup is Get that also tells whether ref named the image by its ID
// rather than by a reference: what `image rm` decides on.
func (s *Store) Lookup(ref string) (img *Image, byID bool, err error) {
	im, err := s.readIndex()
	if err != nil {
		return nil, false, err
	}
	d, byID, err := find(im.Manifests, ref)
	if err != nil {
		return nil, false, err
	}
	img, err = s.load(d)
	return img, byID, err
}

// Untag removes the index entry that names image id by ref; ref "" is the
// image's untagged entry. An entry already gone is no error. Blobs and
// snapshots stay on disk until Collect finds nothing needs them.
func (s *Store) Untag(ref, id string) error {
	if ref != "" {
		norm, err := NormalizeRef(ref)
		if err != nil {
			return err
		}
		ref = norm
	}
	return s.updateIndex(context.Background(), func(im *v1.IndexManifest) error {
		im.Manifests = slices.DeleteFunc(im.Manifests, func(d v1.Descriptor) bool {
			return d.Annotations[annotationID] == id && d.Annotations[annotationRefName] == ref
		})
		return nil
	})
}

// find picks the index entry ref names: an exact reference, a reference of
// the same repository by manifest or index digest, a full ID, or a unique ID
// prefix. byID tells that ref named an ID rather than a reference.
func find(ds []v1.Descriptor, ref string) (d v1.Descriptor, byID bool, err error) {
	if id, ok := strings.CutPrefix(ref, "sha256:"); ok {
		d, err := findID(ds, ref, id)
		return d, true, err
	}
	if norm, err := NormalizeRef(ref); err == nil {
		for _, d := range ds {
			if d.Annotations[annotationRefName] == norm {
				return d, false, nil
			}
		}
		if repo, dig, ok := strings.Cut(norm, "@"); ok {
			for _, d := range ds {
				name := d.Annotations[annotationRefName]
				if name != "" && repoOf(name) == repo &&
					(d.Digest.String() == dig || d.Annotations[annotationIndexDigest] == dig) {
					return d, false, nil
				}
			}
		}
	}
	if hexPrefix().MatchString(ref) {
		d, err := findID(ds, ref, ref)
		return d, true, err
	}
	return v1.Descriptor{}, false, fmt.Errorf("image %q: %w", ref, ErrNotFound)
}

// findID finds the single entry whose ID starts with sha256:<prefix>; several
// entries of one ID (several tags) count as one match.
func findID(ds []v1.Descriptor, ref, prefix string) (v1.Descriptor, error) {
	var found v1.Descriptor
	n := 0
	for _, d := range ds {
		id := d.Annotations[annotationID]
		if !strings.HasPrefix(id, "sha256:"+prefix) {
			continue
		}
		if n == 0 || found.Annotations[annotationID] != id {
			n++
			found = d
		}
	}
	switch n {
	case 0:
		return v1.Descriptor{}, fmt.Errorf("image %q: %w", ref, ErrNotFound)
	case 1:
		return found, nil
	default:
		return v1.Descriptor{}, fmt.Errorf("image %q: %w", ref, ErrAmbiguous)
	}
}

// load reads an index entry's manifest and config.
func (s *Store) load(d v1.Descriptor) (*Image, error) {
	m, cfg, err := s.manifestAndConfig(d.Digest)
	if err != nil {
		return nil, err
	}
	img := &Image{
		Ref:         d.Annotations[annotationRefName],
		ID:          m.Config.Digest.String(),
		Digest:      d.Digest.String(),
		IndexDigest: d.Annotations[annotationIndexDigest],
		Config:      configFrom(cfg.Config).clone(), // cfg is shared (see parsed)
		RepoDigest:  d.Annotations[annotationRepoDigest],
		Size:        m.Config.Size,
		Created:     cfg.Created.Time,
	}
	img.Pulled, _ = time.Parse(time.RFC3339Nano, d.Annotations[annotationPulled]) // zero when absent
	for _, l := range m.Layers {
		img.Size += l.Size
	}
	if p := cfg.Platform(); p != nil { // nil for a config that names no OS or architecture
		img.Platform = p.String()
	}
	for _, h := range cfg.RootFS.DiffIDs {
		img.DiffIDs = append(img.DiffIDs, h.String())
	}
	return img, nil
}

// readManifestAndConfig reads and parses an image manifest and its config.
func (s *Store) readManifestAndConfig(digest v1.Hash) (*v1.Manifest, *v1.ConfigFile, error) {
	raw, err := s.readBlob(digest)
	if err != nil {
		return nil, nil, fmt.Errorf("reading manifest: %w", err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("parsing manifest %s: %w", digest, err)
	}
	rawCfg, err := s.readBlob(m.Config.Digest)
	if err != nil {
		return nil, nil, fmt.Errorf("reading config of %s: %w", digest, err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, nil, fmt.Errorf("parsing config %s: %w", m.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, nil, fmt.Errorf("image %s: %d layers but %d diff IDs", digest, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	return m, cfg, nil
}
