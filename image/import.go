package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Import stores a root filesystem tarball (plain, gzip or zstd) as a
// one-layer image, like `docker import`: changes are Dockerfile lines
// (CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, STOPSIGNAL, VOLUME)
// applied to an empty config. The layer is unpacked into its snapshot, and
// the image is tagged ref (normalised) unless ref is "".
func (s *Store) Import(ctx context.Context, r io.Reader, ref string, changes []string) (*Image, error) {
	norm := ""
	if ref != "" {
		var err error
		if norm, err = NormalizeRef(ref); err != nil {
			return nil, err
		}
		if strings.Contains(norm, "@") {
			return nil, fmt.Errorf("importing as %q: cannot tag with a digest", ref)
		}
	}
	var cfg Config
	if err := applyChanges(&cfg, changes); err != nil {
		return nil, fmt.Errorf("importing: %w", err)
	}
	unlock, err := s.use(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	img, err := s.importLayer(ctx, r, norm, cfg)
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w", norm, err)
	}
	return img, nil
}

func (s *Store) importLayer(ctx context.Context, r io.Reader, norm string, cfg Config) (*Image, error) {
	layer, diffID, err := s.ingestLayer(r)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.ensureSnapshot(ctx, diffID, func() (io.ReadCloser, error) { return s.openBlob(layer.Digest) }); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	cf := v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      v1.Time{Time: now},
		Config:       cfg.toV1(),
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}},
		History:      []v1.History{{Created: v1.Time{Time: now}, CreatedBy: "berth import", Comment: "Imported from tarball"}},
	}
	return s.writeImage(ctx, cf, []v1.Descriptor{layer}, norm)
}

// ingestLayer stores r as a layer blob in one pass, computing on the way
// both its digest and the diff ID of its uncompressed content.
func (s *Store) ingestLayer(r io.Reader) (v1.Descriptor, v1.Hash, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if detect(br) == uncompressed {
		// The blob is its own uncompressed content: one hash gives both.
		digest, size, err := s.writeBlob(br, "import-", v1.Hash{}, -1)
		if err != nil {
			return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("storing layer: %w", err)
		}
		return v1.Descriptor{MediaType: uncompressed.mediaType(), Size: size, Digest: digest}, digest, nil
	}
	r = br
	pr, pw := io.Pipe()
	type result struct {
		diffID v1.Hash
		comp   compression
		err    error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		dr, comp, err := decompress(pr)
		if err == nil {
			h := sha256.New()
			if _, err = io.Copy(h, dr); err == nil {
				res.diffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
			}
			dr.Close()
		}
		res.comp, res.err = comp, err
		// Unblock the writer whatever happened; on error it sees err.
		pr.CloseWithError(err)
		done <- res
	}()
	digest, size, err := s.writeBlob(io.TeeReader(r, pw), "import-", v1.Hash{}, -1)
	pw.CloseWithError(err)
	res := <-done
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("storing layer: %w", err)
	}
	if res.err != nil {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("reading layer: %w", res.err)
	}
	return v1.Descriptor{MediaType: res.comp.mediaType(), Size: size, Digest: digest}, res.diffID, nil
}
