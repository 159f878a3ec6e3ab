package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// Index annotations berth writes on each index.json entry.
const (
	annotationRefName     = "org.opencontainers.image.ref.name" // the normalised reference
	annotationID          = "dev.berth.image.id"                // the config digest
	annotationIndexDigest = "dev.berth.image.index-digest"      // the multi-platform index pulled from
	annotationRepoDigest  = "dev.berth.image.repo-digest"       // "repo@sha256:…" as known to a registry (pulled or pushed)
	annotationPulled      = "dev.berth.image.pulled"            // when the reference was last pulled, RFC 3339 (pull_policy daily…)
)

// initLayout writes oci-layout and an empty index.json when they are absent.
func (s *Store) initLayout() error {
	if _, err := os.Stat(s.path("oci-layout")); errors.Is(err, os.ErrNotExist) {
		if err := writeFileAtomic(s.path("oci-layout"), []byte(`{"imageLayoutVersion": "1.0.0"}`)); err != nil {
			return err
		}
	}
	if _, err := os.Stat(s.path("index.json")); err == nil {
		return nil // opening an existing store writes nothing
	}
	return s.updateIndex(context.Background(), func(*v1.IndexManifest) error { return nil })
}

// readIndex reads index.json; it needs no lock because writers replace the
// file by rename.
func (s *Store) readIndex() (*v1.IndexManifest, error) {
	f, err := os.Open(s.path("index.json"))
	if errors.Is(err, os.ErrNotExist) {
		return &v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading image index: %w", err)
	}
	defer f.Close()
	im, err := v1.ParseIndexManifest(f)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", f.Name(), err)
	}
	return im, nil
}

// parseIndex decodes raw, the content of index.json at path.
func parseIndex(raw []byte, path string) (*v1.IndexManifest, error) {
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return im, nil
}

// updateIndex applies change to index.json under the index lock and
// replaces the file atomically.
func (s *Store) updateIndex(ctx context.Context, change func(*v1.IndexManifest) error) error {
	unlock, err := lockFile(ctx, s.path("locks", "index.lock"))
	if err != nil {
		return fmt.Errorf("locking image index: %w", err)
	}
	defer unlock()
	defer s.forgetIndex() // what Get kept of the index is old now
	im, err := s.readIndex()
	if err != nil {
		return err
	}
	if err := change(im); err != nil {
		return err
	}
	if im.Manifests == nil {
		im.Manifests = []v1.Descriptor{}
	}
	data, err := json.MarshalIndent(im, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding image index: %w", err)
	}
	if err := writeFileAtomic(s.path("index.json"), data); err != nil {
		return fmt.Errorf("writing image index: %w", err)
	}
	return nil
}

// tag points ref (may be "") at the image manifest desc. desc must carry
// the berth annotations.
func (s *Store) tag(ctx context.Context, ref string, desc v1.Descriptor) error {
	return s.updateIndex(ctx, func(im *v1.IndexManifest) error {
		im.Manifests = retag(im.Manifests, ref, desc)
		return nil
	})
}

// retag returns the index entries with desc added under ref, as Docker
// tags: an image that loses its last reference to the new one stays as an
// untagged ("dangling") entry; an untagged entry of an image that gets a
// reference goes; an image is added untagged (ref "") only when it has no
// entry yet.
func retag(ds []v1.Descriptor, ref string, desc v1.Descriptor) []v1.Descriptor {
	id := desc.Annotations[annotationID]
	out := make([]v1.Descriptor, 0, len(ds)+1)
	var displaced []v1.Descriptor
	for _, d := range ds {
		name, did := d.Annotations[annotationRefName], d.Annotations[annotationID]
		switch {
		case ref != "" && name == ref:
			if did != id {
				displaced = append(displaced, d)
			}
		case name == "" && did == id:
			// superseded by desc
		default:
			out = append(out, d)
		}
	}
	if ref != "" || !hasID(out, id) {
		out = append(out, desc)
	}
	for _, d := range displaced {
		if !hasID(out, d.Annotations[annotationID]) {
			d.Annotations = maps.Clone(d.Annotations)
			delete(d.Annotations, annotationRefName)
			out = append(out, d)
		}
	}
	return out
}

// hasID reports whether some entry is the image id.
func hasID(ds []v1.Descriptor, id string) bool {
	for _, d := range ds {
		if d.Annotations[annotationID] == id {
			return true
		}
	}
	return false
}

// blobPath is the layout path of a blob.
func (s *Store) blobPath(h v1.Hash) string {
	return s.path("blobs", h.Algorithm, h.Hex)
}

// hasBlob reports whether a blob is present. Blobs only ever appear under
// their final name after their digest was checked, so presence means valid.
func (s *Store) hasBlob(h v1.Hash) bool {
	fi, err := os.Stat(s.blobPath(h))
	return err == nil && fi.Mode().IsRegular()
}

// readBlob returns the content of a small blob (manifest, config).
func (s *Store) readBlob(h v1.Hash) ([]byte, error) {
	b, err := os.ReadFile(s.blobPath(h))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", h, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", h, err)
	}
	return b, nil
}

// writeBlob streams r into the blob store through a temporary file (named
// tmpPrefix*, in <store>/tmp), checks
// its sha256 digest against want (when want.Hex is set) and its size
// against size (when >= 0), syncs it and renames it into place. A cut or
// corrupt stream never leaves a blob under its final name. It returns the
// digest and size written.
func (s *Store) writeBlob(r io.Reader, tmpPrefix string, want v1.Hash, size int64) (v1.Hash, int64, error) {
	return s.storeBlob(r, tmpPrefix, want, size, false, nil)
}

// writeVerifiedBlob is writeBlob for a reader that itself fails at its end
// unless the content has digest want and the given size (what
// go-containerregistry's remote blob readers do): the content is not
// hashed a second time. The checked blob is handed to b, which syncs and
// renames it into place with the rest of the pull.
func (s *Store) writeVerifiedBlob(b *batch, r io.Reader, tmpPrefix string, want v1.Hash, size int64) (v1.Hash, int64, error) {
	return s.storeBlob(r, tmpPrefix, want, size, true, b)
}

// storeBlob writes a blob (see writeBlob); with a batch b it neither syncs
// nor renames the checked temporary file but starts its writeback and
// hands it to b.
func (s *Store) storeBlob(r io.Reader, tmpPrefix string, want v1.Hash, size int64, verified bool, b *batch) (v1.Hash, int64, error) {
	f, err := os.CreateTemp(s.path("tmp"), tmpPrefix)
	if err != nil {
		return v1.Hash{}, 0, fmt.Errorf("creating temporary blob: %w", err)
	}
	handed := false
	defer func() {
		if !handed {
			os.Remove(f.Name()) // no-op after the rename
		}
	}()
	defer f.Close()
	var w io.Writer = f
	h := sha256.New()
	if !verified {
		w = io.MultiWriter(f, h)
	}
	if b != nil {
		w = &writebackWriter{w: w, fd: int(f.Fd())}
	}
	var n int64
	if wt, ok := r.(io.WriterTo); ok {
		n, err = wt.WriteTo(w) // in its own buffers (a chunkTee's, a bytes.Reader's)
	} else {
		// Large reads and writes: fewer system calls for a layer blob.
		n, err = io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, make([]byte, copyBufSize(size)))
	}
	if err != nil {
		return v1.Hash{}, 0, fmt.Errorf("writing blob %s: %w", want, err)
	}
	got := want
	if !verified {
		got = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	}
	if want.Hex != "" && got != want {
		return v1.Hash{}, 0, fmt.Errorf("blob digest mismatch: want %s, got %s", want, got)
	}
	if size >= 0 && n != size {
		return v1.Hash{}, 0, fmt.Errorf("blob %s: size mismatch: want %d bytes, got %d", got, size, n)
	}
	if b != nil {
		startWriteback(int(f.Fd()))
		if err := f.Close(); err != nil {
			return v1.Hash{}, 0, fmt.Errorf("closing blob %s: %w", got, err)
		}
		b.add(f.Name(), s.blobPath(got))
		handed = true
		return got, n, nil
	}
	if err := f.Sync(); err != nil {
		return v1.Hash{}, 0, fmt.Errorf("syncing blob %s: %w", got, err)
	}
	if err := f.Close(); err != nil {
		return v1.Hash{}, 0, fmt.Errorf("closing blob %s: %w", got, err)
	}
	if err := os.Rename(f.Name(), s.blobPath(got)); err != nil {
		return v1.Hash{}, 0, fmt.Errorf("committing blob %s: %w", got, err)
	}
	return got, n, nil
}

// copyBufSize is the copy buffer for a blob of size bytes (-1: unknown):
// 256 KiB, or less for a small blob.
func copyBufSize(size int64) int {
	if size >= 0 && size < 256<<10 {
		return int(max(size, 512))
	}
	return 256 << 10
}

// putBlob stores small content unless it is present already; with a
// batch b, through it.
func (s *Store) putBlob(b *batch, data []byte) (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return v1.Hash{}, err
	}
	if s.hasBlob(h) {
		return h, nil
	}
	h, _, err = s.storeBlob(bytes.NewReader(data), "small-", h, int64(len(data)), false, b)
	return h, err
}

// writebackWriter starts the writeback of a file every few megabytes
// written, so that its data goes to disk while the rest still arrives.
type writebackWriter struct {
	w       io.Writer
	fd      int
	pending int
}

func (w *writebackWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if w.pending += n; w.pending >= 8<<20 {
		startWriteback(w.fd)
		w.pending = 0
	}
	return n, err
}

// writeFileAtomic replaces path, a file of the store's layout, with data
// readable by all and synced before the rename; the directory is not
// synced: after a crash of the host the old content may be back, whole.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, data, atomicfile.Mode(0o644), atomicfile.SyncFile())
}

// parseHash parses "sha256:<64 hex>" and refuses anything else, so a hash
// can be used as a file name.
func parseHash(s string) (v1.Hash, error) {
	h, err := v1.NewHash(s)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("parsing digest %q: %w", s, err)
	}
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return v1.Hash{}, fmt.Errorf("parsing digest %q: only sha256 is supported", s)
	}
	if _, err := hex.DecodeString(h.Hex); err != nil || strings.ToLower(h.Hex) != h.Hex {
		return v1.Hash{}, fmt.Errorf("parsing digest %q: not lowercase hex", s)
	}
	return h, nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
